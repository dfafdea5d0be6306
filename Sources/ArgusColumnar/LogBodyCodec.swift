#if canImport(Glibc)
import Glibc
#endif

/// Log lines as templates plus typed variables (log block format version 2, columns 3 and 4).
///
/// A line is cut into its constant text (the template) and its variables: runs of decimal
/// digits, lowercase hex runs (ids), and RFC 3339 UTC timestamps. Each variable is replaced
/// in the template by a placeholder byte; its value goes into a stream of its own per
/// (template, placeholder), so zstd sees all `duration_ms` values of one template together.
/// Hex ids are kept once per chunk in a table and referred to by index, so the trace id that
/// the several lines of one request repeat is stored once. Timestamps are stored as their
/// difference from the record's time (usually zero). Decoding gives back the exact bytes.
///
/// Because variables hold only bytes of `LogBodyCodec.variableAlphabet`, every run of other
/// bytes in a `|=` needle must lie inside the literal text of the template of a line that
/// contains the needle: `candidates(runs:)` uses that to skip lines, and chunks, exactly.
public enum LogBodyCodec {
    /// Placeholders inside a template (part of the format).
    public static let phInt: UInt8 = 0x01  // digits, no leading zero (or "0"), ≤ 18 digits
    public static let phZeroInt: UInt8 = 0x02  // digits with a leading zero, ≤ 17 digits
    public static let phHex: UInt8 = 0x03  // lowercase hex, even length 4…254 with a digit and a letter; next byte: length
    public static let phTime: UInt8 = 0x04  // YYYY-MM-DDTHH:MM:SS[.f{1,9}] (the 'Z' after it stays literal)

    /// Template kinds (first byte of a template entry).
    public static let kindTemplate: UInt8 = 0
    public static let kindVerbatim: UInt8 = 1

    /// Bytes a variable can consist of: `0-9 a-f - : . T`.
    @inline(__always) public static func isVariableByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || c == 0x2D || c == 0x3A || c == 0x2E || c == 0x54
    }

    /// The maximal runs of non-variable bytes of a needle: a line holding the needle has each
    /// of them in its template's literal text.
    public static func literalRuns(of needle: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        for c in needle {
            if isVariableByte(c) {
                if !cur.isEmpty { out.append(cur); cur = [] }
            } else {
                cur.append(c)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// Byte classes for the cutters: 0 neither letter nor digit, 1 digit, 2 `a-f`, 3 other
    /// ASCII letter, 4 a placeholder byte (`0x01`…`0x04`). A run's classes OR-ed as `1 << class`
    /// tell at once whether it is all digits, hex, or mixed.
    nonisolated(unsafe) static let byteClass: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for c in 0..<256 {
            let b = UInt8(c)
            p[c] = isDigit(b) ? 1 : (b >= 0x61 && b <= 0x66) ? 2 : isAlnum(b) ? 3 : (b >= 1 && b <= 4) ? 4 : 0
        }
        return UnsafePointer(p)
    }()

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
    @inline(__always) static func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }

    // MARK: time

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static let pow10: [Int64] = [1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// "00" … "99" as little-endian pairs of ASCII digits, for writing two digits per store.
    static let digitPairs: [UInt16] = (0..<100).map { (k: Int) -> UInt16 in
        let hi = UInt16(0x30 + k / 10), lo = UInt16(0x30 + k % 10)
        return hi | lo << 8
    }
    /// Every byte as its two lowercase hex digits (little-endian pair).
    static let hexPairs: [UInt16] = (0..<256).map { (b: Int) -> UInt16 in
        let d = Array("0123456789abcdef".utf8)
        let hi = UInt16(d[b >> 4]), lo = UInt16(d[b & 15])
        return hi | lo << 8
    }
    static let pow10u: [UInt64] = (0...19).map { (k: Int) -> UInt64 in
        var r: UInt64 = 1
        for _ in 0..<k { r &*= 10 }
        return r
    }

    /// The number of decimal digits of `v` (1 for 0).
    @inline(__always) static func decimalLength(_ v: UInt64, _ pow10u: UnsafePointer<UInt64>) -> Int {
        let bits = 64 - (v | 1).leadingZeroBitCount
        let t = (bits &* 1233) >> 12
        return max(1, t + (v >= pow10u[t] ? 1 : 0))
    }

    /// Writes the last `count` decimal digits of `v` (zero-padded) at `p`, two per store.
    @inline(__always) static func writeDigits(_ v: UInt64, count: Int, _ p: UnsafeMutablePointer<UInt8>, _ pairs: UnsafePointer<UInt16>) {
        var x = v
        var q = count
        while q >= 2 {
            let r = Int(truncatingIfNeeded: x % 100)
            x /= 100
            q -= 2
            UnsafeMutableRawPointer(p + q).storeBytes(of: pairs[r], as: UInt16.self)
        }
        if q == 1 { p[0] = UInt8(truncatingIfNeeded: 0x30 &+ x % 10) }
    }

    /// What consecutive timestamps share: the day's civil date and the last second's text.
    struct TimeCache {
        var day = Int64.min
        var y: Int64 = 0, m: Int64 = 0, d: Int64 = 0
        var second = Int64.min
        /// `YYYY-MM-DDTHH:MM:SS` of `second` (19 bytes, padded).
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
    }

    /// Writes `ns` as `YYYY-MM-DDTHH:MM:SS[.f…]` with `digits` fraction digits; returns the
    /// length. The caller leaves 24 writable bytes at `p` past the fraction.
    @inline(__always) static func formatTime(_ ns: Int64, digits: Int, into p: UnsafeMutablePointer<UInt8>,
                                             cache: inout TimeCache, pairs: UnsafePointer<UInt16>) -> Int {
        var sec = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac < 0 { frac += 1_000_000_000; sec -= 1 }
        if sec != cache.second {
            var days = sec / 86400
            var rem = sec % 86400
            if rem < 0 { rem += 86400; days -= 1 }
            if cache.day != days { (cache.y, cache.m, cache.d) = civilFromDays(days); cache.day = days }
            cache.second = sec
            withUnsafeMutableBytes(of: &cache.text) { t in
                let q = t.baseAddress!.assumingMemoryBound(to: UInt8.self)
                writeDigits(UInt64(truncatingIfNeeded: cache.y), count: 4, q, pairs)
                q[4] = 0x2D; writeDigits(UInt64(cache.m), count: 2, q + 5, pairs)
                q[7] = 0x2D; writeDigits(UInt64(cache.d), count: 2, q + 8, pairs)
                q[10] = 0x54; writeDigits(UInt64(rem / 3600), count: 2, q + 11, pairs)
                q[13] = 0x3A; writeDigits(UInt64(rem / 60 % 60), count: 2, q + 14, pairs)
                q[16] = 0x3A; writeDigits(UInt64(rem % 60), count: 2, q + 17, pairs)
            }
        }
        let r = UnsafeMutableRawPointer(p)
        r.storeBytes(of: cache.text.0, as: UInt64.self)
        r.storeBytes(of: cache.text.1, toByteOffset: 8, as: UInt64.self)
        r.storeBytes(of: cache.text.2, toByteOffset: 16, as: UInt64.self)
        if digits == 0 { return 19 }
        p[19] = 0x2E
        writeDigits(UInt64(frac) / UInt64(pow10[9 - digits]), count: digits, p + 20, pairs)
        return 20 + digits
    }

    /// A timestamp starting at `i` (4 digits already known): (ns, fraction digits, end), where
    /// `p[end]` is the 'Z' that follows. Only forms that format back to the same bytes.
    static func parseTime(_ p: UnsafeRawBufferPointer, _ i: Int) -> (Int64, Int, Int)? {
        let n = p.count
        guard i + 20 <= n else { return nil }
        func num(_ a: Int, _ len: Int) -> Int64? {
            var v: Int64 = 0
            for k in a..<(a + len) {
                let c = p[k]
                guard isDigit(c) else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            return v
        }
        guard p[i + 4] == 0x2D, p[i + 7] == 0x2D, p[i + 10] == 0x54, p[i + 13] == 0x3A, p[i + 16] == 0x3A,
              let y = num(i, 4), let mo = num(i + 5, 2), let d = num(i + 8, 2), let h = num(i + 11, 2), let mi = num(i + 14, 2), let s = num(i + 17, 2),
              y >= 1970, y <= 2261, mo >= 1, mo <= 12, d >= 1, d <= 31, h < 24, mi < 60, s < 60 else { return nil }
        var end = i + 19
        var digits = 0
        var frac: Int64 = 0
        if end < n && p[end] == 0x2E {
            var k = end + 1
            while k < n && isDigit(p[k]) && digits < 10 {
                frac = frac * 10 + Int64(p[k] - 0x30)
                digits += 1
                k += 1
            }
            guard digits >= 1, digits <= 9 else { return nil }
            end = k
        }
        guard end < n, p[end] == 0x5A else { return nil }
        let days = daysFromCivil(y, mo, d)
        let (cy, cm, cd) = civilFromDays(days)
        guard cy == y, cm == mo, cd == d else { return nil }
        let ns = ((days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + frac * pow10[9 - digits]
        return (ns, digits, end)
    }
}

/// The hex ids that several chunks of a log block repeat (format 3), stored once per block.
/// Serialized as `uvarint count`, one length byte per id, then the ids' bytes back to back;
/// ordered by the time each id first appears, so a chunk's positions grow in small steps.
public struct LogSharedIDs: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// `offsets[k]..<offsets[k + 1]` is id `k` in `bytes`.
    public private(set) var offsets: [Int] = [0]
    var index: [UInt64: Int32] = [:]

    public init() {}
    public var count: Int { offsets.count - 1 }

    /// A 64-bit hash of an id (for finding ids without keeping them as dictionary keys).
    @inline(__always) public static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < p.count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// Adds an id (1…255 bytes) at the next position.
    public mutating func append(_ id: [UInt8]) {
        let h = id.withUnsafeBytes { LogSharedIDs.hash($0) }
        if index[h] == nil { index[h] = Int32(count) }
        bytes.append(contentsOf: id)
        offsets.append(bytes.count)
    }

    /// The position of `id`, or -1.
    public func position(of id: [UInt8]) -> Int {
        guard let k = id.withUnsafeBytes({ index[LogSharedIDs.hash($0)] }) else { return -1 }
        let r = offsets[Int(k)]..<offsets[Int(k) + 1]
        return r.count == id.count && bytes[r].elementsEqual(id) ? Int(k) : -1
    }

    public func serialize(into w: inout ByteWriter) {
        w.uvarint(UInt64(count))
        for k in 0..<count { w.u8(UInt8(offsets[k + 1] - offsets[k])) }
        w.append(bytes)
    }

    public init(deserializing raw: UnsafeRawBufferPointer) throws {
        var r = ByteReader(raw)
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("shared id count \(n)") }
        let lens = try r.bytes(n)
        offsets.reserveCapacity(n + 1)
        var total = 0
        for l in lens {
            total += Int(l)
            offsets.append(total)
        }
        guard total <= r.remaining else { throw ColumnarError.corrupt("shared ids exceed their column") }
        bytes = Array(try r.bytes(total))
    }

    /// Finds hex ids in log lines the way `LogBodyEncoder` cuts them (maximal runs of letters
    /// and digits that are lowercase hex of even length 4…254 with a digit and a letter) and
    /// calls `visit` with each one's bytes.
    public static func forEachID(in line: UnsafeRawBufferPointer, scratch: inout [UInt8], _ visit: (UnsafeRawBufferPointer) -> Void) {
        let n = line.count
        let cls = LogBodyCodec.byteClass
        var i = 0
        while i < n {
            let c = cls[Int(line[i])]
            guard c != 0 && c != 4 else { i += 1; continue }
            var j = i
            var mask: UInt8 = 0
            while j < n {
                let k = cls[Int(line[j])]
                if k == 0 || k == 4 { break }
                mask |= 1 << k
                j += 1
            }
            let hex = mask & 8 == 0, digit = mask & 2 != 0, letter = mask & 4 != 0
            let len = j - i
            if hex && digit && letter && len % 2 == 0 && len >= 4 && len <= 254 {
                scratch.removeAll(keepingCapacity: true)
                var k = i
                while k < j {
                    scratch.append(LogBodyEncoder.nibble(line[k]) << 4 | LogBodyEncoder.nibble(line[k + 1]))
                    k += 2
                }
                scratch.withUnsafeBytes(visit)
            }
            i = j
        }
    }
}

/// Builds the two body columns of one chunk.
public struct LogBodyEncoder {
    /// Templates by a hash of (kind, bytes); the rare second template of a hash goes to
    /// `templateOverflow` (keyed by bytes + kind). Hashing the whole template per line through
    /// `Hasher` (and building a key array) was a fifth of the block writer's time.
    var templateByHash: [UInt64: Int32] = [:]
    var templateOverflow: [[UInt8]: Int] = [:]
    var templates: [(kind: UInt8, bytes: [UInt8])] = []
    /// Per template, per slot, its values in row order (hex: table indexes).
    var slots: [[[UInt64]]] = []
    /// Hex ids by hash, as the templates (`hexOverflow` for a second id of one hash).
    var hexByHash: [UInt64: Int32] = [:]
    var hexOverflow: [[UInt8]: Int] = [:]
    var hexScratch: [UInt8] = []
    /// The chunk's distinct hex ids (binary), in order of first appearance.
    var hexIDs: [[UInt8]] = []
    var hexCount: Int { hexIDs.count }
    public private(set) var rows = ByteWriter()
    var rowTemplates: [Int32] = []

    // Scratch, reused per line.
    var tmpl: [UInt8] = []
    var vals: [(kind: UInt8, v: UInt64, hexStart: Int, hexLen: Int)] = []

    public init() {}

    /// Adds one line whose record time is `time` (nanoseconds).
    public mutating func append(_ line: UnsafeRawBufferPointer, time: Int64) {
        tmpl.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        let n = line.count
        var verbatim = false
        var i = 0
        @inline(__always) func digits(_ a: Int, _ b: Int, _ tmpl: inout [UInt8], _ vals: inout [(kind: UInt8, v: UInt64, hexStart: Int, hexLen: Int)]) {
            let len = b - a
            var v: UInt64 = 0
            if len <= 18 {
                for k in a..<b { v = v &* 10 &+ UInt64(line[k] &- 0x30) }
            }
            if len <= 18 && (line[a] != 0x30 || len == 1) {
                tmpl.append(LogBodyCodec.phInt)
                vals.append((LogBodyCodec.phInt, v, 0, 0))
            } else if len <= 17 {
                tmpl.append(LogBodyCodec.phZeroInt)
                vals.append((LogBodyCodec.phZeroInt, v << 5 | UInt64(len), 0, 0))
            } else {
                tmpl.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[a..<b]))
            }
        }
        let cls = LogBodyCodec.byteClass
        while i < n {
            // A run of template text.
            var j = i
            while j < n && cls[Int(line[j])] == 0 { j += 1 }
            if j > i {
                tmpl.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[i..<j]))
                i = j
                if i == n { break }
            }
            let c = line[i]
            if cls[Int(c)] == 4 { verbatim = true; break }
            // A run of letters and digits.
            var mask: UInt8 = 0
            j = i
            while j < n {
                let k = cls[Int(line[j])]
                if k == 0 || k == 4 { break }
                mask |= 1 << k
                j += 1
            }
            if j - i == 4 && LogBodyCodec.isDigit(c), let (ns, fd, end) = LogBodyCodec.parseTime(line, i) {
                let (delta, o) = ns.subtractingReportingOverflow(time)
                if !o && delta.magnitude < (1 << 58) {
                    tmpl.append(LogBodyCodec.phTime)
                    vals.append((LogBodyCodec.phTime, zigzag(delta) * 10 + UInt64(fd), 0, 0))
                    i = end
                    continue
                }
            }
            let allDigits = mask == 2, allHex = mask & 8 == 0, hasDigit = mask & 2 != 0
            let len = j - i
            if allDigits {
                digits(i, j, &tmpl, &vals)
            } else if allHex && hasDigit && len % 2 == 0 && len >= 4 && len <= 254 {
                tmpl.append(LogBodyCodec.phHex)
                tmpl.append(UInt8(len))
                vals.append((LogBodyCodec.phHex, 0, i, len))
            } else if !hasDigit {
                tmpl.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[i..<j]))
            } else {
                // Letters stay literal, digit runs become variables.
                var k = i
                while k < j {
                    var e = k + 1
                    let d = LogBodyCodec.isDigit(line[k])
                    while e < j && LogBodyCodec.isDigit(line[e]) == d { e += 1 }
                    if d { digits(k, e, &tmpl, &vals) } else { tmpl.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[k..<e])) }
                    k = e
                }
            }
            i = j
        }
        if verbatim {
            let t = templateID(LogBodyCodec.kindVerbatim, Array(line), slotCount: 0)
            rows.uvarint(UInt64(t))
            rowTemplates.append(Int32(t))
            return
        }
        let t = templateID(LogBodyCodec.kindTemplate, tmpl, slotCount: vals.count)
        rows.uvarint(UInt64(t))
        rowTemplates.append(Int32(t))
        for (s, v) in vals.enumerated() {
            switch v.kind {
            case LogBodyCodec.phHex:
                hexScratch.removeAll(keepingCapacity: true)
                for k in 0..<(v.hexLen / 2) {
                    let hi = line[v.hexStart + 2 * k], lo = line[v.hexStart + 2 * k + 1]
                    hexScratch.append(LogBodyEncoder.nibble(hi) << 4 | LogBodyEncoder.nibble(lo))
                }
                let h = hexScratch.withUnsafeBytes { LogSharedIDs.hash($0) }
                let idx: Int
                if let x = hexByHash[h], hexIDs[Int(x)] == hexScratch {
                    idx = Int(x)
                } else if let x = hexOverflow[hexScratch] {
                    idx = x
                } else {
                    idx = hexCount
                    if hexByHash[h] == nil { hexByHash[h] = Int32(idx) } else { hexOverflow[hexScratch] = idx }
                    hexIDs.append(hexScratch)
                }
                slots[t][s].append(UInt64(idx))
            default:
                slots[t][s].append(v.v)
            }
        }
    }

    @inline(__always) static func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }

    mutating func templateID(_ kind: UInt8, _ bytes: [UInt8], slotCount: Int) -> Int {
        let h = bytes.withUnsafeBytes { LogSharedIDs.hash($0) } ^ (UInt64(kind) &* 0x9E37_79B9_7F4A_7C15)
        let first = templateByHash[h]
        if let t = first, templates[Int(t)].kind == kind, templates[Int(t)].bytes == bytes { return Int(t) }
        var key: [UInt8] = []
        if first != nil {
            key = bytes
            key.append(kind)
            if let t = templateOverflow[key] { return t }
        }
        let t = templates.count
        if first == nil { templateByHash[h] = Int32(t) } else { templateOverflow[key] = t }
        templates.append((kind, bytes))
        slots.append([[UInt64]](repeating: [], count: slotCount))
        return t
    }

    @inline(__always) static func uvarintSize(_ x: UInt64) -> Int { x == 0 ? 1 : (64 - x.leadingZeroBitCount + 6) / 7 }

    /// Column 3 (templates): `uvarint T`, per template `u8 kind`, `uvarint length`, bytes; then
    /// per record `uvarint template`. Column 4 (values): `uvarint hex ids`, per id `u8 length`
    /// + bytes; `uvarint shared numbers`, each a `uvarint`; per template per slot `uvarint
    /// stream length` and `u8 mode`; then the streams in that order. A stream holds one
    /// `uvarint` per value: the value itself (mode 0), the zigzag difference from the slot's
    /// previous value, from 0 (mode 1; always for hex slots, whose values are indexes into the
    /// hex table), or the zigzag difference of indexes into the shared numbers (mode 2: for
    /// number slots whose values mostly recur elsewhere in the chunk, like a user or order id
    /// that the several lines of a request repeat).
    ///
    /// Format 3 changes only the hex table: `uvarint ids`, one byte per id (0: the id is in
    /// the block's shared table, else its length), the shared ones' table positions as zigzag
    /// differences from the previous one, then the other ids' bytes back to back. Ids that
    /// `shared` holds (those that several chunks of the block repeat, like a trace id logged by
    /// several services) are written by position.
    public func finish(templates tw: inout ByteWriter, values vw: inout ByteWriter, version: UInt16 = LogBlockFormat.version,
                       shared sharedIDs: LogSharedIDs? = nil) {
        tw.uvarint(UInt64(templates.count))
        for t in templates {
            tw.u8(t.kind)
            tw.uvarint(UInt64(t.bytes.count))
            tw.append(t.bytes)
        }
        tw.append(rows.bytes)
        var kinds: [[UInt8]] = []
        for t in templates {
            var ks: [UInt8] = []
            let tb = t.bytes
            var i = 0
            while t.kind == LogBodyCodec.kindTemplate && i < tb.count {
                if tb[i] >= 1 && tb[i] <= 4 { ks.append(tb[i]); if tb[i] == LogBodyCodec.phHex { i += 1 } }
                i += 1
            }
            kinds.append(ks)
        }
        // Numbers that recur across the chunk.
        var counts: [UInt64: Int32] = [:]
        for (t, ss) in slots.enumerated() {
            for (k, vs) in ss.enumerated() where kinds[t][k] == LogBodyCodec.phInt || kinds[t][k] == LogBodyCodec.phZeroInt {
                for v in vs where v >= 128 { counts[v, default: 0] += 1 }
            }
        }
        var shared = [[Bool]]()
        for (t, ss) in slots.enumerated() {
            var row = [Bool](repeating: false, count: ss.count)
            for (k, vs) in ss.enumerated() where kinds[t][k] == LogBodyCodec.phInt || kinds[t][k] == LogBodyCodec.phZeroInt {
                var recurring = 0, size = 0
                for v in vs {
                    if v >= 128 && counts[v]! >= 2 { recurring += 1 }
                    size += LogBodyEncoder.uvarintSize(v)
                }
                row[k] = recurring * 10 >= vs.count * 4 && size >= 2 * vs.count
            }
            shared.append(row)
        }
        // Shared numbers in order of first appearance (row order), and each slot's indexes.
        var table: [UInt64: Int] = [:]
        var tableValues: [UInt64] = []
        var indexes = slots.map { $0.map { _ in [UInt64]() } }
        var cursor = slots.map { [Int](repeating: 0, count: $0.count) }
        if shared.contains(where: { $0.contains(true) }) {
            for t32 in rowTemplates {
                let t = Int(t32)
                for k in 0..<slots[t].count {
                    let v = slots[t][k][cursor[t][k]]
                    cursor[t][k] += 1
                    guard shared[t][k] else { continue }
                    let idx: Int
                    if let x = table[v] {
                        idx = x
                    } else {
                        idx = tableValues.count
                        table[v] = idx
                        tableValues.append(v)
                    }
                    indexes[t][k].append(UInt64(idx))
                }
            }
        }
        vw.uvarint(UInt64(hexCount))
        if version <= 2 {
            for id in hexIDs {
                vw.u8(UInt8(id.count))
                vw.append(id)
            }
        } else {
            var positions: [Int] = []
            positions.reserveCapacity(hexIDs.count)
            for id in hexIDs {
                let g = sharedIDs?.position(of: id) ?? -1
                positions.append(g)
                vw.u8(g >= 0 ? 0 : UInt8(id.count))
            }
            var prev = 0
            for g in positions where g >= 0 {
                vw.uvarint(zigzag(Int64(g - prev)))
                prev = g
            }
            for (k, id) in hexIDs.enumerated() where positions[k] < 0 { vw.append(id) }
        }
        vw.uvarint(UInt64(tableValues.count))
        for v in tableValues { vw.uvarint(v) }
        var streams: [ByteWriter] = []
        for (t, ss) in slots.enumerated() {
            for (k, vs0) in ss.enumerated() {
                let vs = shared[t][k] ? indexes[t][k] : vs0
                var raw = 0, delta = 0
                var prev: UInt64 = 0
                for v in vs {
                    raw += LogBodyEncoder.uvarintSize(v)
                    delta += LogBodyEncoder.uvarintSize(zigzag(Int64(bitPattern: v &- prev)))
                    prev = v
                }
                let mode: UInt8 = shared[t][k] ? 2 : kinds[t][k] == LogBodyCodec.phHex || delta < raw ? 1 : 0
                var w = ByteWriter(capacity: min(raw, delta))
                prev = 0
                for v in vs {
                    w.uvarint(mode != 0 ? zigzag(Int64(bitPattern: v &- prev)) : v)
                    prev = v
                }
                vw.uvarint(UInt64(w.count))
                vw.u8(mode)
                streams.append(w)
            }
        }
        for w in streams { vw.append(w.bytes) }
    }
}

/// The templates column of a chunk, decoded: enough to pick candidate lines for a needle.
public struct LogBodyTemplates {
    public let kinds: [UInt8]
    /// Template bytes, back to back (and 16 bytes of padding); `ranges[t]` locates template `t`.
    public let bytes: [UInt8]
    public let ranges: [Range<Int>]
    /// The template of every record.
    public let rows: [Int32]

    public init(_ raw: UnsafeRawBufferPointer, count: Int) throws {
        var r = ByteReader(raw)
        let nt = try r.uvarintInt()
        guard nt <= r.remaining else { throw ColumnarError.corrupt("template count \(nt)") }
        var kinds: [UInt8] = [], bytes: [UInt8] = [], ranges: [Range<Int>] = []
        kinds.reserveCapacity(nt)
        ranges.reserveCapacity(nt)
        for _ in 0..<nt {
            let k = try r.u8()
            guard k <= LogBodyCodec.kindVerbatim else { throw ColumnarError.corrupt("template kind \(k)") }
            kinds.append(k)
            let l = try r.uvarintInt()
            let b = try r.bytes(l)
            ranges.append(bytes.count..<(bytes.count + l))
            bytes.append(contentsOf: b)
        }
        // Padding, so the decoder can copy any literal 16 bytes at a time.
        bytes.append(contentsOf: repeatElement(0, count: 16))
        var rows = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let t = try r.uvarint()
            guard t < UInt64(nt) else { throw ColumnarError.corrupt("template \(t) of \(nt)") }
            rows[i] = Int32(t)
        }
        self.kinds = kinds
        self.bytes = bytes
        self.ranges = ranges
        self.rows = rows
    }

    /// Which templates can hold a line passing `filters` (each: alternatives, each a list of
    /// literal runs that must all be in the template).
    public func candidates(_ filters: [[[[UInt8]]]]) -> [Bool] {
        var out = [Bool](repeating: true, count: ranges.count)
        bytes.withUnsafeBytes { all in
            for t in ranges.indices {
                let tb = UnsafeRawBufferPointer(rebasing: all[ranges[t]])
                for f in filters {
                    var any = false
                    for alt in f where alt.allSatisfy({ LogBodyTemplates.contains(tb, $0) }) { any = true; break }
                    if !any { out[t] = false; break }
                }
            }
        }
        return out
    }

    static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if hay.count < needle.count { return false }
        return needle.withUnsafeBytes { ByteSearch.find(hay, $0) }
    }
}

/// Substring search over bytes: `memchr` for the needle's rarest byte (by a fixed table of how
/// common bytes are in log text), `memcmp` around it.
public enum ByteSearch {
    /// Higher is more common; bytes not listed count as rare.
    static let commonness: [UInt8] = {
        var t = [UInt8](repeating: 1, count: 256)
        for (k, c) in Array(" etaoinsrlhdcu\"=:,.-_/mpfgbywvk0123456789{}".utf8).enumerated() { t[Int(c)] = UInt8(250 - k * 5) }
        return t
    }()

    /// The position of the byte of `needle` to look for first.
    public static func pivot(_ needle: UnsafeRawBufferPointer) -> Int {
        var best = 0
        for i in 0..<needle.count where commonness[Int(needle[i])] < commonness[Int(needle[best])] { best = i }
        return best
    }

    /// A needle prepared for repeated search: two of its bytes (the least common ones, at
    /// different positions) are compared at 16 candidate starts at once, and only starts where
    /// both agree are checked whole. With one common byte as the pivot (a needle of hex digits
    /// in hex-heavy text) `memchr` stops every few bytes; two bytes together rarely agree.
    public struct Finder: Sendable {
        public let needle: [UInt8]
        let p1: Int, p2: Int
        let c1: UInt8, c2: UInt8

        public init(_ needle: [UInt8]) {
            self.needle = needle
            var a = 0, b = 0
            if needle.count > 1 {
                let order = needle.indices.sorted { (commonness[Int(needle[$0])], $0) < (commonness[Int(needle[$1])], $1) }
                a = order[0]
                // The second probe: the least common byte that differs from the first, else the farthest position.
                b = order.dropFirst().first { needle[$0] != needle[a] } ?? (a == 0 ? needle.count - 1 : 0)
                if a > b { swap(&a, &b) }
            }
            p1 = a
            p2 = b
            c1 = needle.isEmpty ? 0 : needle[a]
            c2 = needle.isEmpty ? 0 : needle[b]
        }

        /// The first start `>= from` where the needle occurs in `hay`, or nil.
        @inline(__always) public func next(in hay: UnsafeRawBufferPointer, from: Int) -> Int? {
            let len = needle.count
            if len == 0 { return from <= hay.count ? from : nil }
            let lastStart = hay.count - len
            guard from <= lastStart, let h = hay.baseAddress else { return nil }
            return needle.withUnsafeBytes { nb in
                let np = nb.baseAddress!
                var i = from
                let v1 = SIMD16<UInt8>(repeating: c1), v2 = SIMD16<UInt8>(repeating: c2)
                // Blocks of 16 starts whose probe bytes all lie inside the haystack.
                while i + 15 <= lastStart {
                    let a = h.loadUnaligned(fromByteOffset: i + p1, as: SIMD16<UInt8>.self)
                    let b = h.loadUnaligned(fromByteOffset: i + p2, as: SIMD16<UInt8>.self)
                    let m = unsafeBitCast((a .== v1) .& (b .== v2), to: SIMD2<UInt64>.self)
                    var lo = m[0], hi = m[1]
                    while lo != 0 {
                        let at = i + lo.trailingZeroBitCount >> 3
                        if memcmp(h + at, np, len) == 0 { return at }
                        lo &= ~(0xFF << UInt64(((at - i) << 3)))
                    }
                    while hi != 0 {
                        let at = i + 8 + hi.trailingZeroBitCount >> 3
                        if memcmp(h + at, np, len) == 0 { return at }
                        hi &= ~(0xFF << UInt64(((at - i - 8) << 3)))
                    }
                    i += 16
                }
                while i <= lastStart {
                    if h.load(fromByteOffset: i + p1, as: UInt8.self) == c1 && h.load(fromByteOffset: i + p2, as: UInt8.self) == c2
                        && memcmp(h + i, np, len) == 0 { return i }
                    i += 1
                }
                return nil
            }
        }
    }

    @inline(__always) public static func find(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer, pivot k: Int? = nil) -> Bool {
        let len = needle.count
        if len == 0 { return true }
        if hay.count < len { return false }
        let k = k ?? pivot(needle)
        let c = Int32(needle[k])
        let h = hay.baseAddress!, nb = needle.baseAddress!
        // The pivot byte can sit at hay[k] … hay[count - len + k].
        var p = h + k
        let last = h + (hay.count - len + k)
        while p <= last {
            guard let f = memchr(p, c, last - p + 1) else { return false }
            let start = UnsafeRawPointer(f) - k
            if memcmp(start, nb, len) == 0 { return true }
            p = UnsafeRawPointer(f) + 1
        }
        return false
    }
}

/// Rebuilds lines from the two body columns.
public struct LogBodyDecoder {
    enum OpKind: UInt8 { case literal, int, zeroInt, hex, time }
    struct Op {
        var kind: OpKind
        var a: Int32  // literal: start in template bytes; hex: length in chars
        var b: Int32  // literal: length
    }
    let templates: LogBodyTemplates
    var ops: [Op] = []
    var opStart: [Int] = []
    var slotBase: [Int] = []
    /// The chunk's hex ids back to back (from the chunk and the block's shared table).
    var hexPool: [UInt8] = []
    var hexStarts: [Int] = []
    var hexLens: [UInt8] = []
    var streamStart: [Int] = []
    var streamEnd: [Int] = []
    var streamMode: [UInt8] = []
    var sharedNumbers: [UInt64] = []
    let values: [UInt8]

    public init(templates: LogBodyTemplates, values: [UInt8], version: UInt16 = LogBlockFormat.version, shared: LogSharedIDs? = nil) throws {
        self.templates = templates
        self.values = values
        var slots = 0
        for t in templates.ranges.indices {
            opStart.append(ops.count)
            slotBase.append(slots)
            let r = templates.ranges[t]
            if templates.kinds[t] == LogBodyCodec.kindVerbatim {
                ops.append(Op(kind: .literal, a: Int32(r.lowerBound), b: Int32(r.count)))
                continue
            }
            var i = r.lowerBound
            var lit = i
            func flush(_ end: Int) {
                if end > lit { ops.append(Op(kind: .literal, a: Int32(lit), b: Int32(end - lit))) }
            }
            while i < r.upperBound {
                let c = templates.bytes[i]
                if c >= 1 && c <= 4 {
                    flush(i)
                    switch c {
                    case LogBodyCodec.phInt: ops.append(Op(kind: .int, a: 0, b: 0))
                    case LogBodyCodec.phZeroInt: ops.append(Op(kind: .zeroInt, a: 0, b: 0))
                    case LogBodyCodec.phTime: ops.append(Op(kind: .time, a: 0, b: 0))
                    default:
                        guard i + 1 < r.upperBound else { throw ColumnarError.corrupt("hex placeholder without a length") }
                        i += 1
                        ops.append(Op(kind: .hex, a: Int32(templates.bytes[i]), b: 0))
                    }
                    slots += 1
                    i += 1
                    lit = i
                } else {
                    i += 1
                }
            }
            flush(r.upperBound)
        }
        opStart.append(ops.count)
        slotBase.append(slots)
        try values.withUnsafeBytes { p in
            var r = ByteReader(p)
            let nh = try r.uvarintInt()
            guard nh <= r.remaining else { throw ColumnarError.corrupt("hex id count \(nh)") }
            hexStarts.reserveCapacity(nh)
            hexLens.reserveCapacity(nh)
            if version <= 2 {
                for _ in 0..<nh {
                    let l = try r.u8()
                    hexStarts.append(hexPool.count)
                    hexLens.append(l)
                    hexPool.append(contentsOf: try r.bytes(Int(l)))
                }
            } else {
                let kinds = try r.bytes(nh)
                var positions: [Int] = []
                var g = 0
                for l in kinds where l == 0 {
                    g &+= Int(truncatingIfNeeded: unzigzag(try r.uvarint()))
                    guard let sh = shared, g >= 0, g < sh.count else { throw ColumnarError.corrupt("shared hex id \(g) of \(shared?.count ?? 0)") }
                    positions.append(g)
                }
                var p = 0
                for l in kinds {
                    hexStarts.append(hexPool.count)
                    if l == 0 {
                        let sh = shared!
                        let a = sh.offsets[positions[p]], b = sh.offsets[positions[p] + 1]
                        p += 1
                        hexLens.append(UInt8(truncatingIfNeeded: b - a))
                        hexPool.append(contentsOf: sh.bytes[a..<b])
                    } else {
                        hexLens.append(l)
                        hexPool.append(contentsOf: try r.bytes(Int(l)))
                    }
                }
            }
            let nn = try r.uvarintInt()
            guard nn <= r.remaining else { throw ColumnarError.corrupt("shared number count \(nn)") }
            sharedNumbers.reserveCapacity(nn)
            for _ in 0..<nn { sharedNumbers.append(try r.uvarint()) }
            var lens: [Int] = []
            lens.reserveCapacity(slots)
            for _ in 0..<slots {
                lens.append(try r.uvarintInt())
                let m = try r.u8()
                guard m <= 2 else { throw ColumnarError.corrupt("value stream mode \(m)") }
                streamMode.append(m)
            }
            var off = r.offset
            for l in lens {
                streamStart.append(off)
                off += l
                streamEnd.append(off)
            }
            guard off <= p.count else { throw ColumnarError.corrupt("value streams exceed the column") }
        }
    }

    /// Decodes the lines of `rows` (sorted ascending; nil: every row) into one buffer with
    /// `rows.count + 1` offsets. `times` are the records' times; `capacity` the total line bytes
    /// of the chunk (an upper bound of the output).
    public func decode(rows: [Int]?, times: [Int64], capacity: Int) throws -> (bytes: [UInt8], offsets: [Int]) {
        var bytes: [UInt8] = []
        let offsets = try decode(rows: rows, times: times, capacity: capacity, into: &bytes)
        bytes.removeLast(bytes.count - (offsets.last ?? 0))
        return (bytes, offsets)
    }

    /// As `decode`, into `scratch` (grown when needed and meant to be reused, so its pages
    /// are not faulted in again for every chunk); returns the offsets. The lines end at the
    /// last offset.
    public func decode(rows: [Int]?, times: [Int64], capacity: Int, into scratch: inout [UInt8]) throws -> [Int] {
        let n = templates.rows.count
        guard times.count == n else { throw ColumnarError.corrupt("body rows \(n) vs times \(times.count)") }
        var offsets = [Int](repeating: 0, count: (rows?.count ?? n) + 1)
        var wantT: [Bool]
        if let rows {
            wantT = [Bool](repeating: false, count: templates.ranges.count)
            for r in rows { wantT[Int(templates.rows[r])] = true }
        } else {
            wantT = [Bool](repeating: true, count: templates.ranges.count)
        }
        var state = [StreamState](repeating: StreamState(), count: streamStart.count)
        for s in streamStart.indices {
            state[s] = StreamState(cursor: streamStart[s], end: streamEnd[s], mode: streamMode[s], last: 0)
        }
        let capacity = capacity + 64
        if scratch.count < capacity { scratch = [UInt8](repeating: 0, count: capacity) }
        try scratch.withUnsafeMutableBufferPointer { out in
            try values.withUnsafeBytes { vp in
                try templates.bytes.withUnsafeBytes { tp in
                    try hexPool.withUnsafeBytes { pool in
                        try ops.withUnsafeBufferPointer { ops in
                            try state.withUnsafeMutableBufferPointer { st in
                                try sharedNumbers.withUnsafeBufferPointer { shared in
                                    try offsets.withUnsafeMutableBufferPointer { offs in
                                        _ = try LogBodyDecoder.run(
                                            out: out.baseAddress!, capacity: capacity, values: vp, templateBytes: tp, hexPool: pool, hexStarts: hexStarts, hexLens: hexLens,
                                            ops: ops, state: st, shared: shared, offsets: offs, rowTemplates: templates.rows, opStart: opStart,
                                            slotBase: slotBase, rows: rows, wantT: wantT, times: times)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return offsets
    }

    struct StreamState {
        var cursor = 0
        var end = 0
        var mode: UInt8 = 0
        var last: UInt64 = 0
    }

    @inline(__always) static func readVar(_ st: UnsafeMutablePointer<StreamState>, _ vp: UnsafeRawBufferPointer, _ shared: UnsafeBufferPointer<UInt64>) throws -> UInt64 {
        var off = st.pointee.cursor
        let end = st.pointee.end
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard off < end else { throw ColumnarError.corrupt("value stream ends early") }
            let b = vp[off]
            off &+= 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift &+= 7
            if shift > 63 { throw ColumnarError.corrupt("varint overflows 64 bits") }
        }
        st.pointee.cursor = off
        let mode = st.pointee.mode
        if mode == 0 { return result }
        let v = st.pointee.last &+ UInt64(bitPattern: unzigzag(result))
        st.pointee.last = v
        if mode == 1 { return v }
        guard v < UInt64(shared.count) else { throw ColumnarError.corrupt("shared number \(v) of \(shared.count)") }
        return shared[Int(v)]
    }

    /// The decoding loop over raw buffers; returns the bytes written. Template literals are
    /// copied 16 bytes at a time (template bytes carry 16 bytes of padding, the output 64),
    /// numbers and hex ids are written two characters per store from tables, and timestamps
    /// reuse the text of the previous one's second.
    static func run(out base: UnsafeMutablePointer<UInt8>, capacity: Int, values vp: UnsafeRawBufferPointer, templateBytes tp: UnsafeRawBufferPointer,
                    hexPool: UnsafeRawBufferPointer, hexStarts: [Int], hexLens: [UInt8], ops: UnsafeBufferPointer<Op>, state st: UnsafeMutableBufferPointer<StreamState>,
                    shared: UnsafeBufferPointer<UInt64>, offsets offs: UnsafeMutableBufferPointer<Int>, rowTemplates: [Int32], opStart: [Int],
                    slotBase: [Int], rows: [Int]?, wantT: [Bool], times: [Int64]) throws -> Int {
        try LogBodyCodec.digitPairs.withUnsafeBufferPointer { dp in
            try LogBodyCodec.hexPairs.withUnsafeBufferPointer { hp in
                try LogBodyCodec.pow10u.withUnsafeBufferPointer { p10 in
                    let pairs = dp.baseAddress!, hexPairs = hp.baseAddress!, pow10u = p10.baseAddress!
                    let tpb = tp.baseAddress!
                    let stb = st.baseAddress!
                    var pos = 0
                    var next = 0
                    var k = 0
                    var timeCache = LogBodyCodec.TimeCache()
                    let n = rowTemplates.count
                    for i in 0..<n {
                        let t = Int(rowTemplates[i])
                        let emit: Bool
                        if let rows {
                            emit = next < rows.count && rows[next] == i
                            if !emit && !wantT[t] { continue }
                        } else {
                            emit = true
                        }
                        var s = slotBase[t]
                        var o = opStart[t]
                        let oe = opStart[t + 1]
                        while o < oe {
                            let op = ops[o]
                            o += 1
                            switch op.kind {
                            case .literal:
                                if emit {
                                    let l = Int(op.b)
                                    guard pos + l + 16 <= capacity else { throw ColumnarError.corrupt("lines exceed their recorded size") }
                                    let src = tpb + Int(op.a)
                                    let dst = UnsafeMutableRawPointer(base + pos)
                                    if l <= 16 {
                                        dst.storeBytes(of: src.loadUnaligned(as: UInt64.self), as: UInt64.self)
                                        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
                                    } else {
                                        dst.copyMemory(from: src, byteCount: l)
                                    }
                                    pos += l
                                }
                            case .int:
                                let v = try readVar(stb + s, vp, shared)
                                s += 1
                                if emit {
                                    guard pos + 20 <= capacity else { throw ColumnarError.corrupt("lines exceed their recorded size") }
                                    let digits = LogBodyCodec.decimalLength(v, pow10u)
                                    LogBodyCodec.writeDigits(v, count: digits, base + pos, pairs)
                                    pos += digits
                                }
                            case .zeroInt:
                                let v = try readVar(stb + s, vp, shared)
                                s += 1
                                if emit {
                                    let len = Int(v & 31)
                                    guard pos + len <= capacity, len <= 17 else { throw ColumnarError.corrupt("digit run of \(len)") }
                                    LogBodyCodec.writeDigits(v >> 5, count: len, base + pos, pairs)
                                    pos += len
                                }
                            case .hex:
                                let idx = Int(truncatingIfNeeded: try readVar(stb + s, vp, shared))
                                s += 1
                                if emit {
                                    guard idx >= 0, idx < hexStarts.count else { throw ColumnarError.corrupt("hex id \(idx) of \(hexStarts.count)") }
                                    let len = Int(op.a)
                                    let start = hexStarts[idx]
                                    guard Int(hexLens[idx]) * 2 == len, pos + len <= capacity else { throw ColumnarError.corrupt("hex id length") }
                                    let out = UnsafeMutableRawPointer(base + pos)
                                    var q = 0
                                    while q < len / 2 {
                                        out.storeBytes(of: hexPairs[Int(hexPool[start + q])], toByteOffset: 2 * q, as: UInt16.self)
                                        q += 1
                                    }
                                    pos += len
                                }
                            case .time:
                                let v = try readVar(stb + s, vp, shared)
                                s += 1
                                if emit {
                                    guard pos + 32 <= capacity else { throw ColumnarError.corrupt("lines exceed their recorded size") }
                                    let fd = Int(v % 10)
                                    guard fd <= 9 else { throw ColumnarError.corrupt("time fraction digits") }
                                    let ns = times[i] &+ unzigzag(v / 10)
                                    pos += LogBodyCodec.formatTime(ns, digits: fd, into: base + pos, cache: &timeCache, pairs: pairs)
                                }
                            }
                        }
                        if emit {
                            k += 1
                            offs[k] = pos
                            next += 1
                            if let rows, next == rows.count { break }
                        }
                    }
                    return pos
                }
            }
        }
    }
}
