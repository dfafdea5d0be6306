// swift-tools-version:6.1
import PackageDescription

let settings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "argus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "argus", targets: ["argus"]),
        .executable(name: "argus-bench", targets: ["ArgusBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ArgusModel", swiftSettings: settings),
        .target(name: "ArgusColumnar", dependencies: ["ArgusModel", "CZstd"], swiftSettings: settings),
        .target(
            name: "ArgusStorage",
            dependencies: [
                "ArgusModel", "ArgusColumnar",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        .target(name: "ArgusQuery", dependencies: ["ArgusModel", "ArgusStorage"], swiftSettings: settings),
        .target(name: "ArgusOTLP", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["README.md"]),
        .target(
            name: "ArgusIngest",
            dependencies: ["ArgusModel", "ArgusColumnar", "ArgusStorage", "ArgusOTLP", "CSnappy", "CZlib",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: settings),
        .target(
            name: "ArgusRules",
            dependencies: ["ArgusModel", "ArgusStorage", "ArgusQuery",
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: settings),
        .target(
            name: "ArgusServer",
            dependencies: [
                "ArgusModel", "ArgusStorage", "ArgusIngest", "ArgusOTLP", "ArgusQuery", "ArgusRules",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "argus",
            dependencies: [
                "ArgusModel", "ArgusStorage", "ArgusIngest", "ArgusServer", "ArgusQuery", "ArgusRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "ArgusBench",
            dependencies: ["ArgusModel", "ArgusColumnar", "ArgusStorage", "ArgusIngest", "ArgusQuery", "ArgusRules",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: settings),
        .target(name: "ArgusTestKit", dependencies: ["ArgusModel", "ArgusIngest"], path: "Tests/ArgusTestKit"),
        .testTarget(name: "ArgusModelTests", dependencies: ["ArgusModel"]),
        .testTarget(name: "ArgusColumnarTests", dependencies: ["ArgusColumnar", "ArgusModel"]),
        .testTarget(name: "ArgusStorageTests", dependencies: ["ArgusStorage", "ArgusModel", "ArgusColumnar", "ArgusTestKit"]),
        .testTarget(name: "ArgusQueryTests", dependencies: ["ArgusQuery", "ArgusModel", "ArgusStorage", "ArgusTestKit"], exclude: ["testdata"]),
        .testTarget(name: "ArgusIngestTests", dependencies: ["ArgusIngest", "ArgusModel", "ArgusStorage", "ArgusTestKit"]),
        .testTarget(
            name: "ArgusRulesTests",
            dependencies: ["ArgusRules", "ArgusModel", "ArgusStorage", "ArgusQuery", "ArgusTestKit",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "ArgusServerTests", dependencies: ["ArgusTestKit", "ArgusModel", "ArgusIngest"]),
        .testTarget(
            name: "ArgusOTelTests",
            dependencies: [
                "ArgusTestKit", "ArgusModel",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
