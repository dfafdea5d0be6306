import ArgusModel
import ArgusStorage

/// Prometheus remote write 2.0 (`io.prometheus.write.v2.Request`, already snappy-decompressed):
/// a symbol table (4) that label, help and unit references index, and time series (5) with
/// label refs (1), samples (2), native histograms (3, refused), exemplars (4), metadata (5).
extension RemoteWriteIngester {
    /// What a 2.0 request wrote, for the `X-Prometheus-Remote-Write-*-Written` headers.
    public struct V2Written: Sendable {
        public var samples = 0
        public var histograms = 0
        public var exemplars = 0
    }

    public func ingestV2(_ body: [UInt8], now: Int64) throws -> (IngestCounts, V2Written) {
        var counts = IngestCounts()
        var written = V2Written()
        let app = store.appender()
        let minTime = store.minAcceptedTime
        let maxTime = now + limits.maxFuture
        var newKeys: [LabelKey: SeriesRef] = [:]
        try body.withUnsafeBytes { raw in
            // The symbols first (the spec does not order the fields).
            var symbols: [Range<Int>] = []
            var r = ProtoReader(raw)
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                if field == 4 && wire == .bytes {
                    let range = try r.bytesRange()
                    guard validUTF8(raw, range) else { throw ArgusError(.badInput, "symbols[\(symbols.count)] is not valid UTF-8") }
                    symbols.append(range)
                } else {
                    try r.skip(wire)
                }
            }
            if let first = symbols.first, !first.isEmpty {
                throw ArgusError(.badInput, "symbols[0] must be the empty string (remote write 2.0)")
            }
            func symbol(_ ref: UInt64) throws -> Range<Int> {
                guard ref < UInt64(symbols.count) else {
                    throw ArgusError(.badInput, "symbol reference \(ref) is out of range (the request has \(symbols.count) symbols)")
                }
                return symbols[Int(ref)]
            }
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
            }
            let cached = cache.withLock { $0 }
            r = ProtoReader(raw)
            var index = 0
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                guard field == 5 && wire == .bytes else { try r.skip(wire); continue }
                var ts = try r.message()
                defer { index += 1 }
                var refs: [UInt64] = []
                var samples: [(Int64, Double)] = []
                var exemplars: [Exemplar] = []
                var histograms = 0
                var meta: (type: UInt64, help: UInt64, unit: UInt64)?
                while !ts.isAtEnd {
                    let (f, w) = try ts.tag()
                    switch (f, w) {
                    case (1, .bytes):
                        var p = try ts.message()
                        while !p.isAtEnd { refs.append(try p.varint()) }
                    case (1, .varint):
                        refs.append(try ts.varint())
                    case (2, .bytes):
                        var s = try ts.message()
                        var v = 0.0, t: Int64 = 0
                        while !s.isAtEnd {
                            let (sf, sw) = try s.tag()
                            switch (sf, sw) {
                            case (1, .fixed64): v = Double(bitPattern: try s.fixed64())
                            case (2, .varint): t = Int64(bitPattern: try s.varint())
                            default: try s.skip(sw)
                            }
                        }
                        samples.append((t, v))
                    case (3, .bytes):
                        _ = try ts.bytesRange()
                        histograms += 1
                    case (4, .bytes):
                        var e = try ts.message()
                        var erefs: [UInt64] = []
                        var v = 0.0, t: Int64 = 0
                        while !e.isAtEnd {
                            let (ef, ew) = try e.tag()
                            switch (ef, ew) {
                            case (1, .bytes):
                                var p = try e.message()
                                while !p.isAtEnd { erefs.append(try p.varint()) }
                            case (1, .varint): erefs.append(try e.varint())
                            case (2, .fixed64): v = Double(bitPattern: try e.fixed64())
                            case (3, .varint): t = Int64(bitPattern: try e.varint())
                            default: try e.skip(ew)
                            }
                        }
                        guard erefs.count % 2 == 0 else {
                            counts.reject("invalid_exemplar", 1, "timeseries[\(index)]: exemplar labels_refs has an odd length")
                            continue
                        }
                        var items: [Label] = []
                        var bad = false
                        for k in stride(from: 0, to: erefs.count, by: 2) {
                            guard erefs[k] < UInt64(symbols.count), erefs[k + 1] < UInt64(symbols.count) else { bad = true; break }
                            let n = text(symbols[Int(erefs[k])]), lv = text(symbols[Int(erefs[k + 1])])
                            if !NameRules.isValidLabelName(n) { bad = true; break }
                            if !lv.isEmpty { items.append(Label(n, lv)) }
                        }
                        if bad {
                            counts.reject("invalid_exemplar", 1, "timeseries[\(index)]: exemplar labels are invalid or reference missing symbols")
                            continue
                        }
                        items.sort { $0.name < $1.name }
                        exemplars.append(Exemplar(labels: Labels(sorted: items), t: t == 0 ? (samples.last?.0 ?? now) : t, v: v))
                    case (5, .bytes):
                        var m = try ts.message()
                        var mt: UInt64 = 0, help: UInt64 = 0, unit: UInt64 = 0
                        while !m.isAtEnd {
                            let (mf, mw) = try m.tag()
                            switch (mf, mw) {
                            case (1, .varint): mt = try m.varint()
                            case (3, .varint): help = try m.varint()
                            case (4, .varint): unit = try m.varint()
                            default: try m.skip(mw)
                            }
                        }
                        meta = (mt, help, unit)
                    default:
                        try ts.skip(w)
                    }
                }
                if histograms > 0 {
                    counts.reject("native_histogram", histograms, "native histograms are not supported; send classic histograms")
                }
                guard refs.count % 2 == 0, !refs.isEmpty else {
                    counts.reject("invalid_labels", max(samples.count, 1), "timeseries[\(index)]: labels_refs must hold name/value pairs")
                    continue
                }
                // The series key: the referenced strings (symbol numbering differs per request).
                var key: [UInt8] = [0xFE]
                var ranges: [(Range<Int>, Range<Int>)] = []
                do {
                    for k in stride(from: 0, to: refs.count, by: 2) {
                        let n = try symbol(refs[k]), v = try symbol(refs[k + 1])
                        ranges.append((n, v))
                        key.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[n]))
                        key.append(0xFF)
                        key.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[v]))
                        key.append(0xFF)
                    }
                } catch let e as ArgusError {
                    counts.reject("invalid_labels", max(samples.count, 1), "timeseries[\(index)]: \(e.message)")
                    continue
                }
                var ref = cached[LabelKey(key)] ?? newKeys[LabelKey(key)]
                var metricName = ""
                if ref == nil || meta != nil {
                    for (n, v) in ranges where text(n) == Labels.metricName { metricName = text(v) }
                }
                if let meta, !metricName.isEmpty, meta.help < UInt64(symbols.count), meta.unit < UInt64(symbols.count) {
                    store.metadata.record(metricName, MetricMetadata(type: MetadataStore.typeName(remoteWrite: meta.type),
                                                                     help: text(symbols[Int(meta.help)]), unit: text(symbols[Int(meta.unit)])))
                    counts.metadata += 1
                }
                if samples.isEmpty && exemplars.isEmpty { continue }
                if ref == nil {
                    do {
                        guard ranges.count <= limits.maxLabelsPerSeries else {
                            throw ArgusError(.limit, "series has \(ranges.count) labels, over the limit of \(limits.maxLabelsPerSeries)")
                        }
                        var items: [Label] = []
                        for (n, v) in ranges {
                            let name = text(n), value = text(v)
                            try LabelRules.check(name: name, value: value, limits: limits)
                            items.append(Label(name, value))
                        }
                        let newRef = try store.seriesRef(for: try LabelRules.makeLabels(items))
                        newKeys[LabelKey(key)] = newRef
                        counts.series += 1
                        ref = newRef
                    } catch let e as ArgusError {
                        counts.reject(e.code == .limit ? "limit" : "invalid_labels", max(samples.count, 1), e.message)
                        continue
                    }
                }
                appendInBounds(samples, ref: ref!, app, &counts, minTime, maxTime)
                for e in exemplars { app.appendExemplar(ref: ref!, e) }
            }
        }
        if !newKeys.isEmpty {
            cache.withLock { c in
                if c.count > RemoteWriteIngester.maxCached { c.removeAll() }
                for (k, ref) in newKeys { c[k] = ref }
            }
        }
        let result = try app.commit(skipInvalid: true)
        counts.samples = result.appended
        counts.exemplars = result.exemplars
        written.samples = result.appended + result.duplicates
        written.exemplars = result.exemplars
        if result.rejected > 0, let e = result.firstError {
            counts.reject(e.code == .outOfOrder ? "out_of_order" : "duplicate_timestamp", result.rejected, e.message)
        }
        return (counts, written)
    }
}

/// Whether the bytes in `range` are valid UTF-8.
func validUTF8(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
    var it = UnsafeRawBufferPointer(rebasing: raw[range]).makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&it) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
