import ArgusModel
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import Tracing

/// `notifications`, run serverless-style: no instance exists until an event arrives; the first
/// event of a burst pays a visible cold start (a `cold start` span, `notifications_cold_starts_total`),
/// the instance then stays warm for `keepWarm` and is scaled to zero when idle
/// (`notifications_instances` goes back to 0).
public enum NotificationsService {
    public struct Options: Sendable {
        public var coldStart: Duration = .milliseconds(600)
        public var keepWarm: Duration = .seconds(3)
        public init() {}
    }

    /// The function's instances: at most one warm instance, started on demand.
    actor FunctionPool {
        let options: Options
        let logger: Logger
        let coldStarts: Counter
        let instances: Gauge
        var warm: Int?
        var starting: Task<Int, any Error>?
        var lastUsed: UInt64 = 0
        var nextID = 1

        init(options: Options, logger: Logger, service: String) {
            self.options = options
            self.logger = logger
            self.coldStarts = Counter(label: ShopMetrics.coldStarts, dimensions: [("service", service)])
            self.instances = Gauge(label: ShopMetrics.instances, dimensions: [("service", service)])
            instances.record(0)
        }

        /// A warm instance id, and whether this call had to start it.
        func acquire() async throws -> (Int, Bool) {
            lastUsed = TimeUtil.monotonicNanos()
            if let warm { return (warm, false) }
            if let starting { return (try await starting.value, false) }
            let id = nextID
            nextID += 1
            let options = self.options, logger = self.logger, coldStarts = self.coldStarts
            let task = Task<Int, any Error> {
                try await withSpan("cold start", ofKind: .internal) { span in
                    span.attributes["faas.coldstart"] = true
                    span.attributes["faas.instance"] = "\(id)"
                    logger.notice("cold start: starting instance \(id)")
                    try await Task.sleep(for: options.coldStart)
                    coldStarts.increment()
                    logger.notice("instance \(id) ready")
                }
                return id
            }
            starting = task
            do {
                let id = try await task.value
                warm = id
                starting = nil
                instances.record(1)
                lastUsed = TimeUtil.monotonicNanos()
                return (id, true)
            } catch {
                starting = nil
                throw error
            }
        }

        func touch() { lastUsed = TimeUtil.monotonicNanos() }

        /// Scales to zero when the warm instance has been idle longer than `keepWarm`.
        func reap() {
            guard let id = warm else { return }
            let idle = TimeUtil.monotonicNanos() - lastUsed
            let keep = UInt64(options.keepWarm.components.seconds) * 1_000_000_000 + UInt64(options.keepWarm.components.attoseconds / 1_000_000_000)
            if idle > keep {
                warm = nil
                instances.record(0)
                logger.notice("instance \(id) idle for \(options.keepWarm): scaled to zero")
            }
        }
    }

    struct Reaper: Service {
        let pool: FunctionPool
        func run() async throws {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
                await pool.reap()
            }
        }
    }

    /// The routes, and the service that scales idle instances to zero.
    public static func make(env: ServiceEnvironment, options: Options) -> (routes: @Sendable (ShopRouter) -> Void, reaper: any Service) {
        let pool = FunctionPool(options: options, logger: env.logger, service: env.name)
        let sent = Counter(label: "notifications_sent_total", dimensions: [("service", env.name)])
        let routes: @Sendable (ShopRouter) -> Void = { router in
            router.post("/events") { request, context in
                let event = try await request.decode(as: OrderEvent.self, context: context)
                guard event.type == "order_placed" else { throw HTTPError(.badRequest, message: "unknown event type \"\(event.type)\"; known: order_placed") }
                let (instance, cold) = try await pool.acquire()
                try await withSpan("send order confirmation", ofKind: .internal) { span in
                    span.attributes["faas.instance"] = "\(instance)"
                    try await work(10...30)
                }
                await pool.touch()
                sent.increment()
                env.logger.info("order confirmation sent", metadata: ["order_id": "\(event.order_id)", "user": "\(event.user)", "instance": "\(instance)", "cold_start": "\(cold)"])
                return EventReply(instance: instance, cold_start: cold)
            }
        }
        return (routes, Reaper(pool: pool))
    }
}
