import ArgusIngest
import ArgusModel
import ArgusStorage
import Testing

@Suite struct TextExpositionParserTests {
    func parse(_ s: String) throws -> [ParsedSample] { try TextExpositionParser().parse(Array(s.utf8)) }

    func message(_ s: String) -> String? {
        do {
            _ = try parse(s)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func parsesLines() throws {
        let s = try parse("""
            # HELP http_requests_total Requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400"}    3 1395066363000

            msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
            metric_without_timestamp_and_labels 12.47
            something_weird{problem="division by zero"} +Inf -3982045
            nan_value NaN
            empty_label{a=""} 1
            """)
        #expect(s.count == 7)
        #expect(s[0].labels == Labels([("__name__", "http_requests_total"), ("method", "post"), ("code", "200")]))
        #expect(s[0].value == 1027)
        #expect(s[0].timestamp == 1_395_066_363_000)
        #expect(s[0].line == 3)
        #expect(s[2].labels["path"] == "C:\\DIR\\FILE.TXT")
        #expect(s[2].labels["error"] == "Cannot find file:\n\"FILE.TXT\"")
        #expect(s[3].timestamp == nil)
        #expect(s[4].value == .infinity)
        #expect(s[4].timestamp == -3_982_045)
        #expect(s[5].value.isNaN)
        #expect(s[6].labels == Labels([("__name__", "empty_label")]))
    }

    @Test(arguments: [
        ("ok 1\n3bad 2\n", "line 2: invalid metric name \"3bad\""),
        ("a{1x=\"v\"} 1", "line 1: invalid label name \"1x\""),
        ("a{b=\"v\",b=\"w\"} 1", "line 1: duplicate label name \"b\""),
        ("a{b=\"v\" 1", "line 1: expected \",\" or \"}\" after the value of label \"b\""),
        ("a{b=v} 1", "line 1: expected a quoted value for label \"b\""),
        ("a{b=\"v} 1", "line 1: unterminated value of label \"b\""),
        ("a", "line 1: missing sample value"),
        ("a one", "line 1: invalid sample value \"one\""),
        ("a 1 12.5", "line 1: invalid timestamp \"12.5\": expected integer milliseconds"),
        ("a 1 2 3", "line 1: unexpected text after the timestamp"),
        ("a{b=\"\\q\"} 1", "line 1: invalid escape sequence \"\\q\" in the value of label \"b\""),
    ])
    func errorsNameTheLine(_ input: String, _ expected: String) {
        #expect(message(input) == expected)
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = Array("a{b=\"".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\"} 1".utf8)
        #expect(throws: ArgusError.self) { try TextExpositionParser().parse(bytes) }
        do {
            _ = try TextExpositionParser().parse(Array("ok 1\n".utf8) + bytes)
        } catch {
            #expect("\(error)" == "line 2: the value of label \"b\" is not valid UTF-8")
        }
    }

    /// HELP, TYPE and UNIT comments are read in the same pass as the samples; malformed
    /// comments are ignored; OpenMetrics stops at # EOF.
    @Test func metadataInTheSamePass() throws {
        let text = """
        # HELP http_requests_total Requests served,\\nby code.
        # TYPE http_requests_total counter
        http_requests_total{code="200"} 3
        #  just a comment
        # TYPE
        # UNIT request_seconds seconds
        # TYPE request_seconds histogram
        request_seconds_bucket{le="+Inf"} 1
        # EOF
        # TYPE after_eof gauge
        """
        var metadata: [String: MetricMetadata]? = [:]
        let samples = try TextExpositionParser(format: .openMetrics).parse(Array(text.utf8), metadata: &metadata)
        #expect(samples.count == 2)
        #expect(metadata?["http_requests_total"] == MetricMetadata(type: "counter", help: "Requests served,\nby code."))
        #expect(metadata?["request_seconds"] == MetricMetadata(type: "histogram", help: "", unit: "seconds"))
        #expect(metadata?.count == 2)
    }

    /// An OpenMetrics timestamp beyond 64-bit milliseconds is a line error, not a trap.
    @Test func hugeOpenMetricsTimestampIsAnError() throws {
        #expect { try TextExpositionParser(format: .openMetrics).parse(Array("a 1 1e300\n# EOF\n".utf8)) } throws: {
            "\($0)".hasPrefix("line 1: invalid timestamp")
        }
    }

    @Test func validatorChecksTimeBounds() throws {
        var s = try parse("a 1 100000\nb 2\n")
        let v = ImportValidator()
        try v.validate(&s, now: 200_000, minTime: 50_000)
        #expect(s[1].timestamp == 200_000)
        var future = try parse("a 1 100000\na 1 99999999999")
        #expect { try v.validate(&future, now: 200_000, minTime: 0) } throws: { "\($0)".hasPrefix("line 2: timestamp 99999999999 is too far in the future") }
        var old = try parse("a 1 10")
        #expect { try v.validate(&old, now: 200_000, minTime: 50_000) } throws: { "\($0)".hasPrefix("line 1: timestamp 10 is before the retention window") }
    }
}
