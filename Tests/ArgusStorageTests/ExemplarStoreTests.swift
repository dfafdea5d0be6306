import ArgusModel
import ArgusStorage
import ArgusTestKit
import Testing

@Suite struct ExemplarStoreTests {
    func ex(_ trace: String, _ t: Int64, _ v: Double) -> Exemplar {
        Exemplar(labels: Labels([("trace_id", trace)]), t: t, v: v)
    }

    @Test func ringKeepsTheNewestAndLinksPerSeries() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir) { $0.maxExemplars = 5 }
        defer { store.close() }
        let a = try store.seriesRef(for: L("req_bucket", ("le", "1")))
        let b = try store.seriesRef(for: L("req_bucket", ("le", "2")))
        // Interleave two series: 8 exemplars into 5 slots drops the 3 oldest overall.
        for i in 0..<8 {
            let app = store.appender()
            let ref = i % 2 == 0 ? a : b
            app.append(ref: ref, Int64(i * 1000), Double(i))
            app.appendExemplar(ref: ref, ex("t\(i)", Int64(i * 1000), Double(i)))
            let r = try app.commit()
            #expect(r.exemplars == 1)
        }
        let ea = store.exemplars.exemplars(of: a, mint: 0, maxt: 100_000)
        let eb = store.exemplars.exemplars(of: b, mint: 0, maxt: 100_000)
        #expect(ea.map(\.labels.description) == ["{trace_id=\"t4\"}", "{trace_id=\"t6\"}"])
        #expect(eb.map(\.labels.description) == ["{trace_id=\"t3\"}", "{trace_id=\"t5\"}", "{trace_id=\"t7\"}"])
        #expect(store.exemplars.exemplars(of: b, mint: 4000, maxt: 6000).map(\.t) == [5000])
        #expect(store.exemplars.stats().stored == 5)
    }

    @Test func prometheusRulesForOutOfOrderDuplicateAndLongLabels() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        defer { store.close() }
        let a = try store.seriesRef(for: L("lat_bucket", ("le", "1")))
        var app = store.appender()
        app.append(ref: a, 10_000, 1)
        app.appendExemplar(ref: a, ex("abc", 10_000, 0.5))
        #expect(try app.commit().exemplars == 1)
        app = store.appender()
        app.append(ref: a, 20_000, 2)
        app.appendExemplar(ref: a, ex("abc", 10_000, 0.5))  // exact repeat: ignored
        app.appendExemplar(ref: a, ex("old", 5_000, 0.1))  // older than the newest: refused
        app.appendExemplar(ref: a, ex(String(repeating: "x", count: 130), 20_000, 0.7))  // over 128 characters
        let r = try app.commit()
        #expect(r.appended == 1)
        #expect(r.exemplars == 0)
        #expect(r.rejectedExemplars == 1)
        let st = store.exemplars.stats()
        #expect(st.duplicate == 1 && st.outOfOrder == 1 && st.invalid == 1)
        #expect(store.exemplars.exemplars(of: a, mint: 0, maxt: .max).count == 1)
    }

    @Test func exemplarsSurviveARestartThroughTheWAL() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir)
        let a = try store.seriesRef(for: L("lat_bucket", ("le", "0.5")))
        let app = store.appender()
        app.append(ref: a, 1_000, 3)
        app.appendExemplar(ref: a, Exemplar(labels: Labels([("span_id", "00f067aa0ba902b7"), ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]), t: 1_000, v: 0.25))
        try app.commit()
        store.close()
        store = try openStore(dir)
        defer { store.close() }
        let ref = store.matchingSeries([Matcher.eq("__name__", "lat_bucket")]).first?.0
        #expect(ref == a)
        let got = store.exemplars.exemplars(of: a, mint: 0, maxt: .max)
        #expect(got.count == 1)
        #expect(got.first?.labels.value("trace_id") == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(got.first?.v == 0.25)
    }
}
