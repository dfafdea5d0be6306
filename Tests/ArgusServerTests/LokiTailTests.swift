import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// `/loki/api/v1/tail` over a real WebSocket against a real `argus serve`.
@Suite struct LokiTailTests {
    /// A minimal WebSocket client over a blocking socket: the upgrade, then server frames.
    final class WebSocket {
        let fd: Int32
        var buffer: [UInt8] = []

        init(port: Int, path: String) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { throw ArgusError(.io, "connect failed") }
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            _ = Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }

        deinit { close(fd) }

        func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ArgusError(.io, "connection closed or timed out") }
            buffer += chunk[0..<n]
        }

        /// The HTTP response head of the upgrade.
        func responseHead() throws -> String {
            while true {
                if let r = String(decoding: buffer, as: UTF8.self).range(of: "\r\n\r\n") {
                    let head = String(String(decoding: buffer, as: UTF8.self)[..<r.lowerBound])
                    buffer.removeFirst(head.utf8.count + 4)
                    return head
                }
                try fill()
            }
        }

        /// The next text frame's payload (server frames are not masked).
        func text() throws -> String {
            while true {
                if buffer.count >= 2 {
                    var len = Int(buffer[1] & 0x7F)
                    var off = 2
                    if len == 126, buffer.count >= 4 {
                        len = Int(buffer[2]) << 8 | Int(buffer[3])
                        off = 4
                    } else if len == 127, buffer.count >= 10 {
                        len = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                        off = 10
                    }
                    if len < 126 || off > 2, buffer.count >= off + len {
                        let opcode = buffer[0] & 0x0F
                        let payload = Array(buffer[off..<(off + len)])
                        buffer.removeFirst(off + len)
                        if opcode == 1 { return String(decoding: payload, as: UTF8.self) }
                        continue  // pings and others
                    }
                }
                try fill()
            }
        }
    }

    func push(_ c: TestHTTPClient, _ line: String, at ns: Int64) throws {
        let body = "{\"streams\":[{\"stream\":{\"job\":\"tail\",\"service_name\":\"shop\"},\"values\":[[\"\(ns)\",\(JSONText.quoted(line))]]}]}"
        #expect(try c.post("/loki/api/v1/push", body: Array(body.utf8), contentType: "application/json").status == 204)
    }

    @Test func tailSendsNewLinesOverAWebSocket() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowNanos()
        try push(c, "order 1 placed", at: now - 10_000_000_000)
        try push(c, "health check", at: now - 9_000_000_000)

        let query = "%7Bjob%3D%22tail%22%7D%20%7C%3D%20%22order%22"  // {job="tail"} |= "order"
        let ws = try WebSocket(port: server.port, path: "/loki/api/v1/tail?query=\(query)&start=\(now - 60_000_000_000)")
        #expect(try ws.responseHead().hasPrefix("HTTP/1.1 101"))
        // The first message: what is already stored since start, filtered.
        let first = try ws.text()
        #expect(first.hasPrefix("{\"streams\":[{\"stream\":{"))
        #expect(first.contains("\"order 1 placed\""))
        #expect(!first.contains("health check"))
        #expect(first.hasSuffix("\"dropped_entries\":null}"))
        // A line stored after the tail started arrives in a later message, alone.
        try push(c, "order 2 placed", at: TimeUtil.nowNanos())
        let second = try ws.text()
        #expect(second.contains("\"order 2 placed\""))
        #expect(!second.contains("order 1 placed"))
        #expect(second.contains("\"job\":\"tail\""))
    }

    @Test func badTailRequestsGet400() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        // A query that does not parse: refused before the upgrade, with the position.
        let bad = try WebSocket(port: server.port, path: "/loki/api/v1/tail?query=%7Bjob%3D%22x%22")
        let head = try bad.responseHead()
        #expect(head.hasPrefix("HTTP/1.1 400"))
        // A metric query cannot be tailed.
        let metric = try server.client.get("/loki/api/v1/tail?query=rate(%7Bjob%3D%22x%22%7D%5B1m%5D)")
        #expect(metric.status == 400)
        #expect(metric.text.contains("tail is only supported for log queries"))
        // A plain GET without the upgrade.
        let plain = try server.client.get("/loki/api/v1/tail?query=%7Bjob%3D%22x%22%7D")
        #expect(plain.status == 400)
        #expect(plain.text.contains("WebSocket"))
        let parse = try server.client.get("/loki/api/v1/tail?query=%7Bjob%3D%22x%22")
        #expect(parse.status == 400)
        #expect(parse.text.contains("parse error"))
        let delay = try server.client.get("/loki/api/v1/tail?query=%7Bjob%3D%22x%22%7D&delay_for=9")
        #expect(delay.text.contains("delay_for can't be greater than 5"))
    }
}
