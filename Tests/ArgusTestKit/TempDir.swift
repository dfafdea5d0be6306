import Foundation

/// A fresh directory under the system temporary directory, removed by `remove()`.
public struct TempDir {
    public let path: String

    public init(_ prefix: String = "argus-test") {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString.prefix(8)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
