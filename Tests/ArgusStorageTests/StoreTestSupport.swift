import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging

func openStore(_ dir: TempDir, configure: (inout StorageOptions) -> Void = { _ in }) throws -> MetricStore {
    var o = StorageOptions(dataDir: dir.path)
    o.retention = 100 * 365 * 86_400_000
    configure(&o)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return try MetricStore(options: o, logger: logger)
}

func L(_ name: String, _ pairs: (String, String)...) -> Labels {
    Labels([("__name__", name)] + pairs)
}

/// Every series matching `matchers` with its samples, keyed by its text form.
func dump(_ store: MetricStore, _ matchers: [Matcher] = [try! Matcher(.regexMatch, "__name__", ".+")],
          mint: Int64 = .min / 2, maxt: Int64 = .max / 2) throws -> [String: [Sample]] {
    let set = store.querier(mint: mint, maxt: maxt).select(matchers)
    var out: [String: [Sample]] = [:]
    while let s = set.next() {
        out[s.labels.description] = zip(s.timestamps, s.values).map { Sample(t: $0, v: $1) }
    }
    if let e = set.error { throw e }
    return out
}
