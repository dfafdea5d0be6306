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
