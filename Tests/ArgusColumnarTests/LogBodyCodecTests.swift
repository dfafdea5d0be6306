import ArgusColumnar
import ArgusModel
import ArgusTestKit
import Foundation
import Testing

@Suite struct LogBodyCodecTests {
    static let base: Int64 = 1_795_860_000_123_456_789

    /// Encodes `lines` as one chunk's body columns and decodes them back (all rows).
    func roundTrip(_ lines: [String], times: [Int64]? = nil) throws -> (lines: [String], templates: LogBodyTemplates) {
        let ts = times ?? lines.indices.map { LogBodyCodecTests.base + Int64($0) * 1_000_000 }
        var enc = LogBodyEncoder()
        var total = 0
        for (i, l) in lines.enumerated() {
            var s = l
            s.withUTF8 { enc.append(UnsafeRawBufferPointer($0), time: ts[i]) }
            total += l.utf8.count
        }
        var tw = ByteWriter(), vw = ByteWriter()
        enc.finish(templates: &tw, values: &vw)
        let tm = try tw.bytes.withUnsafeBytes { try LogBodyTemplates($0, count: lines.count) }
        let dec = try LogBodyDecoder(templates: tm, values: vw.bytes)
        let (bytes, offsets) = try dec.decode(rows: nil, times: ts, capacity: total)
        #expect(offsets.last == total)
        let out = lines.indices.map { String(decoding: bytes[offsets[$0]..<offsets[$0 + 1]], as: UTF8.self) }
        // Every subset of rows decodes to the same lines.
        let some = lines.indices.filter { $0 % 3 == 1 }
        let (sb, so) = try dec.decode(rows: some, times: ts, capacity: total)
        for (k, i) in some.enumerated() { #expect(String(decoding: sb[so[k]..<so[k + 1]], as: UTF8.self) == lines[i]) }
        return (out, tm)
    }

    @Test func linesComeBackByteForByte() throws {
        let lines = [
            "",
            "plain words only",
            #"{"ts":"2026-11-22T10:15:32.123Z","level":"info","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","n":0,"d":0042}"#,
            "ts=2026-11-22T10:15:32.123456Z caller=handler.go:142 duration=12.05ms user=u12345 order=ord-000123 v2 e2e 22T10",
            "leap 2026-12-31T23:59:60Z bad day 2026-02-30T10:00:00Z no zone 2026-11-22T10:15:32 frac10 2026-11-22T10:15:32.1234567891Z",
            "1970-01-01T00:00:00Z 9999-12-31T23:59:59.999999999Z 2026-11-22T10:15:32.1Z",
            "digits 12345678901234567890123 007 0 00 18446744073709551615 999999999999999999",
            "hex abcd ab12 ABCD12 a1b2c3 deadbeef 1234abcd5678ef 0123456789abcdef0123456789abcdef01",
            "control \u{01}\u{02}\u{03}\u{04} bytes stay verbatim 123",
            "utf8 ünïcødé 日本 12 ✓",
            "4bf92f3577b34da6a3ce929d0e0e4736 again 4bf92f3577b34da6a3ce929d0e0e4736",
        ]
        let (out, _) = try roundTrip(lines + lines)
        #expect(out == lines + lines)
    }

    @Test func timestampsFarFromTheRecordTimeAndRandomLinesRoundTrip() throws {
        var rng = SplitMix(seed: 7)
        var lines: [String] = [], ts: [Int64] = []
        let alphabet = Array("abcdefxyzT:-.Z 0123456789\"={}_\u{01}é".unicodeScalars)
        for i in 0..<2000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 60) { s.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            if i % 5 == 0 { s += " at 2026-11-22T10:15:\(10 + i % 50).\(100 + i % 900)Z" }
            lines.append(s)
            ts.append(i % 7 == 0 ? -Int64(rng.next() % 1_000_000_000_000) : Int64(rng.next() >> 2))
        }
        let (out, _) = try roundTrip(lines, times: ts)
        #expect(out == lines)
    }

    @Test func templateCandidatesNeverMissALine() throws {
        var rng = SplitMix(seed: 11)
        var lines: [String] = []
        let words = ["error", "timeout", "card_declined_xyzzy", "user=u", "id=", "ms", "GET /api/cart", "é"]
        for i in 0..<3000 {
            var s = "level=\(["info", "warn", "error"][i % 3])"
            for _ in 0..<4 {
                let w = words[Int(rng.next() % UInt64(words.count))]
                s += " " + w + (rng.next() % 2 == 0 ? String(rng.next() % 100_000) : String(rng.next(), radix: 16))
            }
            lines.append(s)
        }
        let (_, tm) = try roundTrip(lines)
        // Needles: substrings of lines at random places and lengths (crossing variables too).
        for k in 0..<400 {
            let line = Array(lines[k * 7 % lines.count].utf8)
            let a = Int(rng.next() % UInt64(line.count)), len = 1 + Int(rng.next() % 20)
            let needle = Array(line[a..<min(line.count, a + len)])
            let runs = LogBodyCodec.literalRuns(of: needle)
            let cand = tm.candidates([[runs]])
            for (i, l) in lines.enumerated() where l.utf8.count >= needle.count {
                if Array(l.utf8).withUnsafeBytes({ h in needle.withUnsafeBytes { ByteSearch.find(h, $0) } }) {
                    #expect(cand[Int(tm.rows[i])], "line \(i) holds \(String(decoding: needle, as: UTF8.self)) but its template was ruled out")
                }
            }
        }
        // A word in no template rules every template out; one in a template keeps only those.
        #expect(!tm.candidates([[LogBodyCodec.literalRuns(of: Array("zzzqqq".utf8))]]).contains(true))
    }

    @Test func timestampsSharingASecondOrCrossingDaysRoundTrip() throws {
        // The decoder reuses the text of the previous timestamp's second: same second with other
        // fractions, the next second, midnight, going back in time, and before 1970.
        let stamps = ["2026-11-22T23:59:59.999999999Z", "2026-11-22T23:59:59.5Z", "2026-11-22T23:59:59Z", "2026-11-23T00:00:00.000001Z",
                      "2026-11-23T00:00:00.000001Z", "2026-11-22T23:59:59.123Z", "2024-02-29T12:00:00.1Z", "2024-03-01T00:00:00Z",
                      "2026-11-23T00:00:01.01Z", "1970-01-01T00:00:00.000000001Z"]
        var lines: [String] = [], ts: [Int64] = []
        for (i, st) in stamps.enumerated() {
            lines.append("at \(st) n=\(i) took=\(i * 37)ms")
            ts.append(LogBodyCodecTests.base + Int64(i % 3) * 86_400_000_000_000 - Int64(i) * 999_999_999)
        }
        let (out, _) = try roundTrip(lines + lines.reversed(), times: ts + ts.reversed())
        #expect(out == lines + lines.reversed())
    }

    /// Every occurrence of random needles in random text over a small alphabet, found by the
    /// two-probe finder exactly where a naive search finds them.
    @Test func finderAgreesWithANaiveSearch() {
        var rng = SplitMix(seed: 5)
        let alphabet = Array("0123456789abcdef-a".utf8)
        for round in 0..<300 {
            let n = Int(rng.next() % 200)
            let hay = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(round % 2 == 0 ? 3 : alphabet.count))] }
            let len = Int(rng.next() % 20)
            var needle: [UInt8]
            if len > 0 && n > len && rng.next() % 2 == 0 {
                let a = Int(rng.next() % UInt64(n - len))
                needle = Array(hay[a..<(a + len)])
            } else {
                needle = (0..<len).map { _ in alphabet[Int(rng.next() % 3)] }
            }
            var want: [Int] = []
            if needle.count <= n {
                for i in 0...(n - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { want.append(i) }
            }
            let f = ByteSearch.Finder(needle)
            var got: [Int] = []
            hay.withUnsafeBytes { h in
                var from = 0
                while let at = f.next(in: h, from: from) {
                    got.append(at)
                    from = at + 1
                }
            }
            #expect(got == want, "needle \(String(decoding: needle, as: UTF8.self)) in \(String(decoding: hay, as: UTF8.self))")
        }
    }

    /// A damaged format 3 values column (shared id positions that overflow, or point past the
    /// block's table) throws instead of trapping.
    @Test func damagedSharedIDPositionsThrow() throws {
        var shared = LogSharedIDs()
        shared.append([1, 2, 3, 4])
        let tm = try [UInt8]([0]).withUnsafeBytes { try LogBodyTemplates($0, count: 0) }
        for deltas in [[zigzag(1), zigzag(Int64.max)], [zigzag(0), zigzag(1)], [zigzag(-1), 0]] {
            var vw = ByteWriter()
            vw.uvarint(2)
            vw.u8(0)
            vw.u8(0)
            for d in deltas { vw.uvarint(d) }
            vw.uvarint(0)
            #expect(throws: ColumnarError.self) { try LogBodyDecoder(templates: tm, values: vw.bytes, version: 3, shared: shared) }
        }
        // A count past 2^48 in a column is refused, not converted.
        var big = ByteWriter()
        big.uvarint(UInt64.max)
        #expect(throws: ColumnarError.self) { try big.bytes.withUnsafeBytes { try LogBodyTemplates($0, count: 0) } }
    }

    @Test func byteSearchFindsEveryOccurrenceShape() {
        let hay = Array("abcabcabd xyz zzy xyzzy".utf8)
        for (n, want) in [("abd", true), ("xyzzy", true), ("zzyx", false), ("a", true), ("y", true), ("", true), ("xyzzyy", false)] {
            #expect(hay.withUnsafeBytes { h in Array(n.utf8).withUnsafeBytes { ByteSearch.find(h, $0) } } == want, "\(n)")
        }
    }
}
