@testable import ArgusIngest
import ArgusModel
import Testing

@Suite struct RelabelTests {
    @Test func md5KnownVectors() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(MD5.digest([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex(MD5.digest(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(MD5.digest(Array(String(repeating: "a", count: 100).utf8))) == "36a92cc94a9e0fa21f625f8bfb007adf")
    }

    @Test func replaceWithGroups() throws {
        let r = try RelabelConfig(sourceLabels: ["__address__"], regex: "([^:]+):(\\d+)", targetLabel: "host", replacement: "${1}-$2")
        #expect(RelabelConfig.apply([r], to: ["__address__": "db1:9100"])?["host"] == "db1-9100")
        // No match: unchanged.
        #expect(RelabelConfig.apply([r], to: ["__address__": "nope"])?["host"] == nil)
        // Empty replacement removes the target label.
        let del = try RelabelConfig(sourceLabels: ["x"], regex: ".*", targetLabel: "y", replacement: "")
        #expect(RelabelConfig.apply([del], to: ["x": "1", "y": "2"])?["y"] == nil)
    }

    @Test func keepDropAndLabelActions() throws {
        let keep = try RelabelConfig(sourceLabels: ["env", "team"], regex: "prod;(a|b)", action: .keep)
        #expect(RelabelConfig.apply([keep], to: ["env": "prod", "team": "a"]) != nil)
        #expect(RelabelConfig.apply([keep], to: ["env": "prod", "team": "c"]) == nil)
        let drop = try RelabelConfig(sourceLabels: ["__name__"], regex: "go_.*", action: .drop)
        #expect(RelabelConfig.apply([drop], to: ["__name__": "go_goroutines"]) == nil)
        let map = try RelabelConfig(regex: "__meta_(.+)", action: .labelmap)
        #expect(RelabelConfig.apply([map], to: ["__meta_zone": "eu"])?["zone"] == "eu")
        let ldrop = try RelabelConfig(regex: "tmp.*", action: .labeldrop)
        #expect(RelabelConfig.apply([ldrop], to: ["tmp1": "x", "keep": "y"]) == ["keep": "y"])
        let lkeep = try RelabelConfig(regex: "keep|__name__", action: .labelkeep)
        #expect(RelabelConfig.apply([lkeep], to: ["tmp1": "x", "keep": "y", "__name__": "m"]) == ["keep": "y", "__name__": "m"])
        let hm = try RelabelConfig(sourceLabels: ["__address__"], modulus: 4, targetLabel: "shard", action: .hashmod)
        let shard = RelabelConfig.apply([hm], to: ["__address__": "a:1"])?["shard"]
        #expect(shard == String(RelabelConfig.md5Mod("a:1", 4)))
        #expect(throws: ArgusError.self) { try RelabelConfig(action: .replace) }
        #expect(throws: ArgusError.self) { try RelabelConfig(regex: "(", action: .labeldrop) }
    }
}

@Suite struct ScrapeConfigTests {
    @Test func parsesJobsAndBuildsTargets() throws {
        let jobs = try ScrapeConfigLoader.parse("""
            global:
              scrape_interval: 30s
            scrape_configs:
              - job_name: node
                metrics_path: /probe
                params:
                  module: [http_2xx]
                static_configs:
                  - targets: ["10.0.0.1:9100", "10.0.0.2:9100"]
                    labels: {env: prod}
                relabel_configs:
                  - source_labels: [__address__]
                    regex: "10.0.0.2:.*"
                    action: drop
              - job_name: fast
                scrape_interval: 1s
                scrape_timeout: 500ms
                honor_labels: true
                static_configs:
                  - targets: ["localhost:1"]
            """)
        #expect(jobs.count == 2)
        #expect(jobs[0].interval == 30_000)
        #expect(jobs[0].timeout == 10_000)
        #expect(jobs[1].timeout == 500)
        #expect(jobs[1].honorLabels)
        let t = ScrapeTarget.targets(for: jobs[0])
        #expect(t.count == 1)
        #expect(t[0].url == "http://10.0.0.1:9100/probe?module=http_2xx")
        #expect(t[0].labels == Labels([("job", "node"), ("instance", "10.0.0.1:9100"), ("env", "prod")]))
    }

    @Test(arguments: [
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 1s\n    scrape_timeout: 2s\n", "scrape timeout greater than scrape interval"),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", "found multiple scrape configs with job name \"a\""),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n", "scrape_configs[0].scrape_interval: not a valid duration string"),
        ("scrape_configs:\n  - job_name: a\n    bogus: 1\n", "field bogus is not supported"),
        ("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n", "unknown relabel action \"explode\""),
        ("scrape_configs:\n  - scrape_interval: 1s\n", "job_name is required"),
        ("scrape_configs: [\n", "invalid YAML"),
    ])
    func errors(_ yaml: String, _ expected: String) {
        do {
            _ = try ScrapeConfigLoader.parse(yaml, file: "scrape.yml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".hasPrefix("scrape.yml: "))
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func honorLabelsAndMetricRelabel() throws {
        var job = ScrapeJob(name: "j")
        job.staticConfigs = [(["h:1"], [:])]
        job.metricRelabel = [try RelabelConfig(sourceLabels: ["__name__"], regex: "drop_me", action: .drop)]
        let t = ScrapeTarget.targets(for: job)[0]
        let merged = Scraper.merge(Labels([("__name__", "m"), ("job", "inner")]), t)
        #expect(merged == Labels([("__name__", "m"), ("job", "j"), ("exported_job", "inner"), ("instance", "h:1")]))
        #expect(Scraper.merge(Labels([("__name__", "drop_me")]), t) == nil)
        job.honorLabels = true
        let t2 = ScrapeTarget.targets(for: job)[0]
        #expect(Scraper.merge(Labels([("__name__", "m"), ("job", "inner")]), t2)?["job"] == "inner")
    }

    @Test func openMetricsParsing() throws {
        let s = try TextExpositionParser(format: .openMetrics).parse(Array("""
            # TYPE a counter
            a_total{x="1"} 5 1700000000.5 # {trace_id="abc"} 1 1700000000
            b 2
            # EOF
            c 3
            """.utf8))
        #expect(s.count == 2)
        #expect(s[0].timestamp == 1_700_000_000_500)
        #expect(s[0].value == 5)
    }
}
