import ArgusIngest
import ArgusModel
import ArgusOTLP
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

@Suite struct OTLPLogsTests {
    func request(service: String?, records: Int) -> OTLPLogsRequest {
        var req = OTLPLogsRequest()
        var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        func kv(_ k: String, _ v: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
            var x = Opentelemetry_Proto_Common_V1_KeyValue()
            x.key = k
            x.value.stringValue = v
            return x
        }
        if let service { rl.resource.attributes.append(kv("service.name", service)) }
        rl.resource.attributes.append(kv("k8s.pod.name", "pod-1"))
        rl.resource.attributes.append(kv("process.pid", "42"))
        var sl = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        for i in 0..<records {
            var r = Opentelemetry_Proto_Logs_V1_LogRecord()
            r.timeUnixNano = UInt64(1_700_000_000_000_000_000 + i)
            r.body.stringValue = "line \(i)"
            r.severityNumber = .error
            r.attributes.append(kv("http.route", "/x"))
            if i == 1 { r.traceID = Data([1, 2, 3]) }  // invalid: rejected
            sl.logRecords.append(r)
        }
        rl.scopeLogs = [sl]
        req.resourceLogs = [rl]
        return req
    }

    @Test func resourceAttributesSplitIntoStreamLabelsAndMetadata() {
        var counts = IngestCounts()
        let batches = OTLPLogIngester.convert(request(service: "checkout", records: 3), mode: .otlp, now: 0, counts: &counts)
        #expect(counts.samples == 2)
        #expect(counts.rejected == ["invalid_trace_id": 1])
        #expect(batches.count == 1)
        #expect(batches[0].labels == Labels([("service_name", "checkout"), ("k8s_pod_name", "pod-1")]))
        #expect(batches[0].records.map(\.body) == ["line 0", "line 2"])
        #expect(batches[0].records[0].attributes.map(\.name) == ["http_route", "process_pid"])
        #expect(batches[0].records[0].severityNumber == 17)
        let unnamed = OTLPLogIngester.convert(request(service: nil, records: 1), mode: .otlp, now: 0, counts: &counts)
        #expect(unnamed[0].labels["service_name"] == "unknown_service")
        let loki = OTLPLogIngester.convert(request(service: "x", records: 1), mode: .loki, now: 0, counts: &counts)
        #expect(loki[0].labels == Labels([("service.name", "x"), ("k8s.pod.name", "pod-1"), ("process.pid", "42")]))
    }

    /// The wire decoder (the /v1/logs path) gives what the message converter gives: streams,
    /// records, attributes of every value type, times and rejections; and refuses mutated
    /// bodies with an error, never a crash.
    @Test func wireDecoderMatchesMessageConverter() throws {
        var req = request(service: "checkout", records: 4)
        req.resourceLogs.append(request(service: "cart", records: 2).resourceLogs[0])
        req.resourceLogs.append(request(service: "checkout", records: 2).resourceLogs[0])
        var rec = req.resourceLogs[0].scopeLogs[0].logRecords[0]
        rec.timeUnixNano = 0
        rec.observedTimeUnixNano = 1_700_000_000_000_000_123
        rec.severityText = "ERROR"
        rec.traceID = Data(repeating: 0xAB, count: 16)
        rec.spanID = Data(repeating: 0xCD, count: 8)
        func kv(_ k: String, _ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> Opentelemetry_Proto_Common_V1_KeyValue {
            var x = Opentelemetry_Proto_Common_V1_KeyValue()
            x.key = k
            set(&x.value)
            return x
        }
        rec.attributes += [kv("count") { $0.intValue = -3 }, kv("ratio") { $0.doubleValue = 0.25 }, kv("ok") { $0.boolValue = true },
                           kv("blob") { $0.bytesValue = Data([1, 2, 3]) }, kv("a.rather.long.attribute.name") { $0.stringValue = "x" },
                           kv("list") { v in
                               var a = Opentelemetry_Proto_Common_V1_ArrayValue()
                               var one = Opentelemetry_Proto_Common_V1_AnyValue()
                               one.stringValue = "q\"uote"
                               a.values = [one, one]
                               v.arrayValue = a
                           }]
        rec.body.intValue = 7
        req.resourceLogs[0].scopeLogs[0].logRecords.append(rec)
        req.resourceLogs[0].scopeLogs[0].scope.name = "swift-log"
        let body: [UInt8] = try req.serializedBytes()
        for mode in [OTLPLogIngester.LabelMode.otlp, .loki] {
            var c1 = IngestCounts(), c2 = IngestCounts()
            let viaMessages = OTLPLogIngester.convert(req, mode: mode, now: 99, counts: &c1)
            let viaWire = try OTLPLogWire.batches(body, mode: mode, now: 99, counts: &c2)
            #expect(viaWire.map(\.labels) == viaMessages.map(\.labels))
            #expect(viaWire.map(\.records) == viaMessages.map(\.records))
            #expect(viaWire.count == 2)
            #expect(c2.samples == c1.samples)
            #expect(c2.rejected == c1.rejected)
            #expect(c2.firstError == c1.firstError)
        }
        var counts = IngestCounts()
        let got = try OTLPLogWire.batches(body, mode: .otlp, now: 99, counts: &counts)
        // (Both checkout resources share one stream; the record with the int body is the fifth.)
        let last = try #require(got.first?.records.first { $0.time == 1_700_000_000_000_000_123 })
        #expect(last.body == "7")
        #expect(last.severityText == "ERROR")
        #expect(last.attributes.first { $0.name == "list" }?.value == "[\"q\\\"uote\",\"q\\\"uote\"]")
        #expect(last.attributes.first { $0.name == "scope_name" }?.value == "swift-log")

        var rng = SystemRandomNumberGenerator()
        var refused = 0, agreed = 0
        for _ in 0..<3000 {
            var b = body
            for _ in 0..<Int.random(in: 1...4, using: &rng) where b.count > 2 {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                case 1: b = Array(b.prefix(Int.random(in: 1..<b.count, using: &rng)))
                default: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0..<b.count, using: &rng))
                }
            }
            var c = IngestCounts(), c2 = IngestCounts()
            let wire: [LogStreamBatch]
            do { wire = try OTLPLogWire.batches(b, mode: .otlp, now: 99, counts: &c) } catch is ArgusError {
                refused += 1
                continue
            }
            if let m = try? OTLPLogsRequest(serializedBytes: b) {
                let viaMessages = OTLPLogIngester.convert(m, mode: .otlp, now: 99, counts: &c2)
                #expect(wire.map(\.records) == viaMessages.map(\.records))
                agreed += 1
            }
        }
        #expect(refused > 0)
        #expect(agreed > 0)
    }

    @Test func oldSignalLogIsImportedOnceAndRemoved() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let old = try SignalLog(dir: dir.path + "/signals/logs", logger: logger)
        try old.append(try request(service: "a", records: 3).serializedBytes())
        try old.append(try request(service: "b", records: 1).serializedBytes())
        old.close()
        let store = try LogStore(options: LogStoreOptions(dir: dir.path + "/logs"), logger: logger)
        defer { store.close() }
        let ingester = OTLPLogIngester(store: store)
        #expect(try ingester.importSignalLog(dir: dir.path + "/signals/logs") == 3)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/signals/logs"))
        #expect(store.stats().headRecords == 3)
        #expect(store.stats().streams == 2)
        #expect(try ingester.importSignalLog(dir: dir.path + "/signals/logs") == 0)
    }
}
