import ArgusModel
import Logging
import ServiceLifecycle

/// Cuts the log head into blocks every block period, then compacts and applies retention,
/// like `StorageService` does for metrics. The owner closes the store after the server stops.
public struct LogStorageService: Service {
    let store: LogStore
    let logger: Logger

    public init(store: LogStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        let period = Duration.milliseconds(store.options.blockDuration)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                try await runBlocking { try store.flush() }
            } catch {
                logger.error("periodic log head cut failed; data stays in the log WAL and the head", metadata: ["error": "\(error)"])
            }
        }
    }
}
