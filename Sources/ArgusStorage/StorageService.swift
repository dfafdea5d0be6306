import ArgusModel
import Logging
import Dispatch
import ServiceLifecycle

/// Cuts the head into blocks every block period, then compacts and applies retention.
/// On shutdown it stops; the owner closes the store after every service that writes has stopped
/// (the WAL keeps the head's data for the next start).
public struct StorageService: Service {
    let store: MetricStore
    let logger: Logger

    public init(store: MetricStore, logger: Logger) {
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
                logger.error("periodic head cut failed; data stays in the WAL and the head", metadata: ["error": "\(error)"])
            }
        }
    }
}


/// Runs blocking work (fsync, file writes) on a thread outside Swift's cooperative pool.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}
