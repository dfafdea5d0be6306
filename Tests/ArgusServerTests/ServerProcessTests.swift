import ArgusIngest
import ArgusModel
import ArgusTestKit
import Dispatch
import Foundation
import Testing

/// Runs the real `argus serve` binary on a free loopback port.
@Suite(.serialized) struct ServerProcessTests {
    struct Point: Hashable {
        let series: String
        let t: Int64
        let v: Double
    }

    /// Samples returned by /api/v1/export for a selector.
    func export(_ c: TestHTTPClient, _ selector: String) throws -> Set<Point> {
        let q = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let r = try c.get("/api/v1/export?match%5B%5D=\(q)")
        guard r.status == 200 else { throw TestError("export: \(r.status) \(r.text)") }
        var out = Set<Point>()
        for line in r.text.split(separator: "\n") {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let metric = obj["metric"] as! [String: String]
            let values = obj["values"] as! [Double]
            let ts = obj["timestamps"] as! [Int64]
            let key = metric["s"] ?? metric["__name__"]!
            for (t, v) in zip(ts, values) { out.insert(Point(series: key, t: t, v: v)) }
        }
        return out
    }

    @Test func healthAndReady() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        #expect(try server.client.get("/-/healthy").status == 200)
        #expect(try server.client.get("/-/ready").status == 200)
        #expect(server.stop() == 0)
    }

    @Test func badImportIsRejectedWholeWithTheLine() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis()
        var r = try c.post("/api/v1/import/prometheus", "good{s=\"a\"} 1 \(now)\ngood{s=\"b\"} 2 \(now)\n9bad 3 \(now)\n")
        #expect(r.status == 400)
        #expect(r.text == "line 3: invalid metric name \"9bad\"\n")
        r = try c.post("/api/v1/import/prometheus", "good{s=\"a\"} 1 \(now)\ngood{s=\"c\"} 1 \(now + 86_400_000)\n")
        #expect(r.status == 400)
        #expect(r.text.hasPrefix("line 2: timestamp \(now + 86_400_000) is too far in the future"))
        r = try c.post("/api/v1/import/prometheus", "good{s=\"a\"} 1 \(now - 20 * 86_400_000)\n")
        #expect(r.status == 400)
        #expect(r.text.hasPrefix("line 1: timestamp"))
        #expect(r.text.contains("before the retention window"))
        r = try c.post("/api/v1/import/prometheus", body: Array("good{s=\"".utf8) + [0xC3, 0x28] + Array("\"} 1\n".utf8))
        #expect(r.status == 400)
        #expect(r.text.contains("not valid UTF-8"))
        // None of the valid lines of the rejected requests was stored.
        #expect(try export(c, "{__name__=\"good\"}").isEmpty)
        // A valid request is stored; a later out-of-order one is rejected naming its line.
        r = try c.post("/api/v1/import/prometheus", "good{s=\"a\"} 1 \(now)\n")
        #expect(r.status == 204)
        r = try c.post("/api/v1/import/prometheus", "good{s=\"z\"} 1 \(now)\ngood{s=\"a\"} 5 \(now - 1000)\n")
        #expect(r.status == 400)
        #expect(r.text.hasPrefix("line 2: out of order sample"))
        #expect(try export(c, "{__name__=\"good\"}") == [Point(series: "a", t: now, v: 1)])
        // Missing match[] is a 400 too.
        #expect(try c.get("/api/v1/export").status == 400)
        #expect(try c.get("/api/v1/export?match%5B%5D=up%7B").status == 400)
    }

    @Test func remoteWrite() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis()
        let body = RemoteWriteBuilder.build([
            .init([("__name__", "rw_total"), ("s", "a")], [(now - 1000, 1), (now, 2)]),
            .init([("__name__", "rw_total"), ("s", "b")], [(now, 5)]),
        ])
        let headers = ["Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"]
        var r = try c.request("POST", "/api/v1/write", body: Snappy.compress(body), headers: headers)
        #expect(r.status == 204)
        #expect(try export(c, "{__name__=\"rw_total\"}") == [Point(series: "a", t: now - 1000, v: 1), Point(series: "a", t: now, v: 2), Point(series: "b", t: now, v: 5)])
        // Garbage, a truncated body and an unsnappied body are refused with 400.
        r = try c.request("POST", "/api/v1/write", body: [1, 2, 3, 4, 5], headers: headers)
        #expect(r.status == 400)
        r = try c.request("POST", "/api/v1/write", body: Snappy.compress(Array(body.prefix(body.count - 3))), headers: headers)
        #expect(r.status == 400)
        #expect(r.text.contains("protobuf"))
        // An out-of-order sample is reported, the valid rest of the request is stored.
        let mixed = RemoteWriteBuilder.build([
            .init([("__name__", "rw_total"), ("s", "a")], [(now - 5000, 9)]),
            .init([("__name__", "rw_total"), ("s", "c")], [(now, 3)]),
        ])
        r = try c.request("POST", "/api/v1/write", body: Snappy.compress(mixed), headers: headers)
        #expect(r.status == 400)
        #expect(r.text.contains("out of order"))
        #expect(try export(c, "{s=\"c\"}") == [Point(series: "c", t: now, v: 3)])
    }

    @Test func selfMonitoring() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "200ms"])
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis()
        #expect(try c.post("/api/v1/import/prometheus", "a 1 \(now)\nb 2 \(now)\n").status == 204)
        #expect(try c.post("/api/v1/import/prometheus", "bad{ 1\n").status == 400)
        let m = try c.get("/metrics")
        #expect(m.status == 200)
        #expect(m.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(m.text.contains("argus_ingested_samples_total{protocol=\"import\"} 2\n"))
        #expect(m.text.contains("argus_ingest_rejected_total{protocol=\"import\",reason=\"bad_request\",signal=\"metrics\"} 1\n"))
        #expect(m.text.contains("argus_http_request_duration_seconds_bucket{handler=\"/api/v1/import/prometheus\",le=\"+Inf\"} 2\n"))
        #expect(m.text.contains("# TYPE argus_http_request_duration_seconds histogram"))
        // The self-scrape writes the same figures into the store under job "argus".
        usleep(700_000)
        let e = try c.get("/api/v1/export?match%5B%5D=%7Bjob%3D%22argus%22%2C__name__%3D%22up%22%7D")
        #expect(e.text.contains("\"instance\":\"127.0.0.1:\(server.port)\""))
        #expect(try export(c, "{job=\"argus\",__name__=\"argus_ingested_samples_total\"}").contains { $0.v == 2 })
    }

    @Test func seriesLimitRejectsWithACounter() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--limits.max-series", "2", "--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis()
        let body = RemoteWriteBuilder.build((0..<3).map { .init([("__name__", "lim"), ("i", "\($0)")], [(now, 1)]) })
        let r = try c.request("POST", "/api/v1/write", body: Snappy.compress(body), headers: ["Content-Encoding": "snappy"])
        #expect(r.status == 400)
        #expect(r.text.contains("series limit reached"))
        let stored = try c.get("/api/v1/export?match%5B%5D=lim").text.split(separator: "\n")
        #expect(stored.count == 2)
        #expect(try c.get("/metrics").text.contains("argus_ingest_rejected_total{protocol=\"remote_write\",reason=\"limit\",signal=\"metrics\"} 1"))
        let i = try c.post("/api/v1/import/prometheus", "lim{i=\"9\"} 1 \(now)\n")
        #expect(i.status == 400)
        #expect(i.text.hasPrefix("line 1: series limit reached"))
    }

    /// Scrapes a real /metrics endpoint (another argus), a target that never answers, one that
    /// serves garbage and one that refuses connections: the good one is stored with up 1 on
    /// every interval while the others get up 0.
    @Test func scrapesRealTargetsAndBadOnesDoNotDelayIt() throws {
        let dirA = TempDir(), dirB = TempDir(), www = TempDir()
        defer { dirA.remove(); dirB.remove(); www.remove() }
        let target = try ArgusProcess(dataDir: dirA.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { target.stop() }
        // A listener that accepts connections and never answers.
        let hang = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(hang) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(hang, $0, len) } }
        listen(hang, 16)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(hang, $0, &len) } }
        let hangPort = Int(UInt16(bigEndian: addr.sin_port))
        // A real HTTP server serving garbage.
        try "this is { not metrics\n".write(toFile: www.path + "/metrics", atomically: true, encoding: .utf8)
        let garbagePort = freePort()
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www.path, String(garbagePort)]
        py.standardOutput = FileHandle.nullDevice
        py.standardError = FileHandle.nullDevice
        try py.run()
        // SIGKILL: a child of the test process may inherit SIGTERM as ignored.
        defer { kill(py.processIdentifier, SIGKILL); py.waitUntilExit() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? TestHTTPClient(port: garbagePort).get("/metrics")) == nil { usleep(100_000) }
        #expect(garbagePort > 0)
        let config = dirB.path + ".scrape.yml"
        try """
            scrape_configs:
              - job_name: argus-a
                scrape_interval: 1s
                scrape_timeout: 800ms
                static_configs:
                  - targets: ["127.0.0.1:\(target.port)"]
                    labels: {team: obs}
                metric_relabel_configs:
                  - source_labels: [__name__]
                    regex: "argus_http_.*"
                    action: drop
              - job_name: broken
                scrape_interval: 1s
                scrape_timeout: 800ms
                static_configs:
                  - targets: ["127.0.0.1:\(hangPort)", "127.0.0.1:\(garbagePort)", "127.0.0.1:1"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ArgusProcess(dataDir: dirB.path, extraArgs: ["--scrape-config", config, "--self-scrape-interval", "0s"])
        defer { server.stop() }
        usleep(4_500_000)
        let c = server.client
        let up = try c.get("/api/v1/export?match%5B%5D=up").text.split(separator: "\n").map { String($0) }
        func values(_ instance: String) -> [String] {
            guard let line = up.first(where: { $0.contains("\"instance\":\"\(instance)\"") }),
                  let r = line.range(of: #""values":\[[^\]]*\]"#, options: .regularExpression) else { return [] }
            return line[r].dropFirst(10).dropLast().split(separator: ",").map(String.init)
        }
        let good = values("127.0.0.1:\(target.port)")
        #expect(good.count >= 3, "the good target was scraped \(good.count) times in 4.5 s")
        #expect(good.allSatisfy { $0 == "1" })
        for bad in [hangPort, garbagePort, 1] {
            let v = values("127.0.0.1:\(bad)")
            #expect(!v.isEmpty && v.allSatisfy { $0 == "0" }, "target \(bad): \(v)")
        }
        let build = try c.get("/api/v1/export?match%5B%5D=argus_build_info").text
        #expect(build.contains("\"job\":\"argus-a\""))
        #expect(build.contains("\"team\":\"obs\""))
        #expect(try c.get("/api/v1/export?match%5B%5D=%7B__name__%3D~%22argus_http_.%2A%22%7D").text.isEmpty)
        #expect(try c.get("/api/v1/export?match%5B%5D=scrape_samples_scraped").text.contains("\"job\":\"argus-a\""))
        // Stopping the target: its series get staleness markers on the next scrape.
        target.stop()
        usleep(3_000_000)
        let after = try c.get("/api/v1/export?match%5B%5D=argus_build_info").text
        #expect(after.contains("NaN"))
    }

    /// While request bodies fill the in-flight budget, more ingest gets 503 with Retry-After;
    /// once they finish, ingest is accepted again.
    @Test func overloadGets503WithRetryAfter() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--ingest.max-inflight-bytes", "100", "--self-scrape-interval", "0s"])
        defer { server.stop() }
        let now = TimeUtil.nowMillis()
        let slowBody = Array(("slow 1 \(now)\n" + String(repeating: "#", count: 80) + "\n").utf8)
        // A slow producer: headers and part of the body, the rest later.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(server.port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(rc == 0)
        let head = Array("POST /api/v1/import/prometheus HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(slowBody.count)\r\n\r\n".utf8)
        _ = (head + slowBody.prefix(10)).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        usleep(300_000)
        var r = try server.client.post("/api/v1/import/prometheus", "fast 1 \(now)\n")
        #expect(r.status == 503)
        #expect(r.headers["retry-after"] == "1")
        #expect(r.text.contains("in-flight budget"))
        // The slow request completes; then ingest is accepted again.
        _ = Array(slowBody.dropFirst(10)).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(n > 0 && String(decoding: buf[0..<max(n, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 204"))
        r = try server.client.post("/api/v1/import/prometheus", "fast 1 \(now)\n")
        #expect(r.status == 204)
        #expect(try server.client.get("/metrics").text.contains("argus_ingest_rejected_total{protocol=\"import\",reason=\"overloaded\",signal=\"any\"} 1"))
    }

    /// Over 90% of --memory.budget, ingest answers 503 with Retry-After and the reason, the
    /// head is cut into blocks (the pressure response), and queries are still answered.
    @Test func memoryBudgetRefusesIngestButServesQueries() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let now = TimeUtil.nowMillis()
        do {
            // Generous budget: accepted; the data stays for the next start.
            let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--memory.budget", "8GiB", "--self-scrape-interval", "0s"])
            #expect(try server.client.post("/api/v1/import/prometheus", "budget_test 1 \(now)\n").status == 204)
            #expect(server.stop() == 0)
        }
        // A budget below what the process needs to start: every ingest request is refused.
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--memory.budget", "8MiB", "--self-scrape-interval", "0s"])
        defer { server.stop() }
        let r = try server.client.post("/api/v1/import/prometheus", "budget_test 2 \(now + 1000)\n")
        #expect(r.status == 503)
        #expect(r.headers["retry-after"] == "1")
        #expect(r.text.contains("memory budget"))
        let q = try server.client.get("/api/v1/query?query=budget_test&time=\(Double(now + 2000) / 1000)")
        #expect(q.status == 200)
        #expect(q.text.contains("\"1\""))
        #expect(try server.client.get("/metrics").text.contains("argus_ingest_rejected_total{protocol=\"import\",reason=\"memory_budget\",signal=\"any\"} 1"))
        // The pressure response cut the replayed head into a block.
        var blocks = 0
        for _ in 0..<50 where blocks == 0 {
            usleep(100_000)
            blocks = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/blocks")) ?? []).filter { !$0.hasSuffix(".tmp") }.count
        }
        #expect(blocks == 1)
    }

    @Test func oversizedBodyGets413() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--ingest.max-body", "1KiB"])
        defer { server.stop() }
        let body = String(repeating: "x 1\n", count: 1000)
        #expect(try server.client.post("/api/v1/import/prometheus", body).status == 413)
    }

    @Test func flushMovesDataIntoBlocksAndSurvivesRestart() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var server = try ArgusProcess(dataDir: dir.path)
        let now = TimeUtil.nowMillis()
        let lines = (0..<100).map { "flushed{s=\"\($0 % 10)\"} \($0) \(now - 100_000 + Int64($0) * 1000)" }.joined(separator: "\n")
        #expect(try server.client.post("/api/v1/import/prometheus", lines).status == 204)
        let before = try export(server.client, "{__name__=\"flushed\"}")
        #expect(before.count == 100)
        let r = try server.client.post("/api/v1/admin/tsdb/flush", "")
        #expect(r.status == 200)
        #expect(r.text.contains("\"blocksWritten\":1"))
        #expect(try export(server.client, "{__name__=\"flushed\"}") == before)
        #expect(server.stop() == 0)
        server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        #expect(try export(server.client, "{__name__=\"flushed\"}") == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blocks").count == 1)
    }

    @Test func damagedBlockIsRefusedAtStartAndTheRestServed() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var server = try ArgusProcess(dataDir: dir.path)
        let now = TimeUtil.nowMillis()
        #expect(try server.client.post("/api/v1/import/prometheus", "old{s=\"x\"} 1 \(now - 5000)\n").status == 204)
        #expect(try server.client.post("/api/v1/admin/tsdb/flush", "").status == 200)
        #expect(try server.client.post("/api/v1/import/prometheus", "new{s=\"y\"} 2 \(now)\n").status == 204)
        server.kill9()
        let block = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blocks")[0]
        let victim = dir.path + "/blocks/" + block + "/index"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: victim)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        #expect(server.stderr.contains("refusing a damaged block"))
        #expect(server.stderr.contains(victim))
        #expect(try export(server.client, "{__name__=~\"old|new\"}") == [Point(series: "y", t: now, v: 2)])
    }

    /// kill -9 during continuous import, several times: every sample whose request got a 2xx
    /// is returned by export after the restart.
    @Test func killNineLosesNoAcknowledgedSample() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let base = TimeUtil.nowMillis() - 3_600_000
        var acked = Set<Point>()
        var batch = 0
        for round in 0..<4 {
            let server = try ArgusProcess(dataDir: dir.path)
            let client = server.client
            let state = LockedState()
            let done = DispatchSemaphore(value: 0)
            let firstBatch = batch
            DispatchQueue.global().async {
                var b = firstBatch
                while !state.stopped {
                    var points: [Point] = []
                    var body = ""
                    for s in 0..<20 {
                        let p = Point(series: "s\(s)", t: base + Int64(b) * 100, v: Double(b * 20 + s))
                        points.append(p)
                        body += "kill_test{s=\"\(p.series)\"} \(Int(p.v)) \(p.t)\n"
                    }
                    guard let r = try? client.post("/api/v1/import/prometheus", body) else { break }
                    if r.status == 204 { state.add(points) } else {
                        state.fail("HTTP \(r.status): \(r.text)")
                        break
                    }
                    b += 1
                }
                state.setNext(b + 1)
                done.signal()
            }
            // Let it run (at least one acknowledged request, however loaded the machine), then
            // pull the plug without warning.
            for _ in 0..<200 where state.points.isEmpty && state.failure == nil { usleep(50_000) }
            usleep(UInt32(150_000 + round * 150_000))
            server.kill9()
            state.stop()
            done.wait()
            acked.formUnion(state.points)
            batch = state.next
            #expect(state.points.count > 0, "round \(round) acknowledged nothing \(state.failure ?? "")")
            let restarted = try ArgusProcess(dataDir: dir.path)
            let stored = try export(restarted.client, "{__name__=\"kill_test\"}")
            let missing = acked.subtracting(stored)
            #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged samples lost, e.g. \(missing.first.map { "\($0)" } ?? "")")
            #expect(restarted.stop() == 0)
        }
    }
}

final class LockedState: @unchecked Sendable {
    private let lock = NSLock()
    private var _stopped = false
    private var _points: [ServerProcessTests.Point] = []
    private var _next = 0
    private var _failure: String?
    var failure: String? { lock.withLock { _failure } }
    func fail(_ why: String) { lock.withLock { if _failure == nil { _failure = why } } }
    var stopped: Bool { lock.withLock { _stopped } }
    var points: [ServerProcessTests.Point] { lock.withLock { _points } }
    var next: Int { lock.withLock { _next } }
    func stop() { lock.withLock { _stopped = true } }
    func add(_ p: [ServerProcessTests.Point]) { lock.withLock { _points += p } }
    func setNext(_ n: Int) { lock.withLock { _next = n } }
}

/// A port that was free a moment ago (bind to port 0, read it, close).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
