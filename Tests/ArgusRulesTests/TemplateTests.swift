import ArgusModel
@testable import ArgusRules
import Testing

/// Alert templates expand as Prometheus' do (Go text/template plus Prometheus' functions).
@Suite struct TemplateTests {
    func expand(_ t: String, labels: [String: String] = ["instance": "db-1:9100", "job": "node"], value: Double = 0.5,
                query: ((String) throws -> [TemplateValue])? = nil) throws -> String {
        try Template.parse(t, name: "__alert_Test").execute(
            TemplateData(labels: labels, value: value, externalLabels: ["cluster": "eu1"], externalURL: "http://argus:4318"), query: query)
    }

    @Test func variablesAndFields() throws {
        #expect(try expand("{{ $labels.instance }} of {{ $labels.job }} is {{ $value }}") == "db-1:9100 of node is 0.5")
        #expect(try expand("{{ .Labels.job }}/{{ .Value }}/{{ $externalLabels.cluster }}/{{ $externalURL }}") == "node/0.5/eu1/http://argus:4318")
        #expect(try expand("{{ $labels.missing }}") == "")
        #expect(try expand("{{ $value }}", value: 1_000_000) == "1e+06")
        #expect(try expand("{{ $value }}", value: 123456) == "123456")
        #expect(try expand("{{ $value }}", value: 0.00001) == "1e-05")
        #expect(try expand("{{ $value }}", value: 3) == "3")
    }

    @Test func humanizeFamily() throws {
        #expect(try expand("{{ humanize 1234567 }}") == "1.235M")
        #expect(try expand("{{ humanize 0.0012 }}") == "1.2m")
        #expect(try expand("{{ humanize 0 }}") == "0")
        #expect(try expand("{{ humanize 999 }}") == "999")
        #expect(try expand("{{ humanize1024 1048576 }}") == "1Mi")
        #expect(try expand("{{ humanize1024 1536 }}") == "1.5ki")
        #expect(try expand("{{ humanizeDuration 3661 }}") == "1h 1m 1s")
        #expect(try expand("{{ humanizeDuration 90061 }}") == "1d 1h 1m 1s")
        #expect(try expand("{{ humanizeDuration 1.5 }}") == "1.5s")
        #expect(try expand("{{ humanizeDuration 0.0015 }}") == "1.5ms")
        #expect(try expand("{{ humanizePercentage 0.1234 }}") == "12.34%")
        #expect(try expand("{{ $value | humanizePercentage }}", value: 0.98765) == "98.77%")
        #expect(try expand("{{ \"2048\" | humanize1024 }}") == "2ki")
    }

    @Test func stringFunctionsAndPrintf() throws {
        #expect(try expand("{{ printf \"%.2f\" $value }}", value: 3.14159) == "3.14")
        #expect(try expand("{{ printf \"%s=%d\" \"n\" 42 }}") == "n=42")
        #expect(try expand("{{ printf \"%5.1f%%\" 12.345 }}") == " 12.3%")
        #expect(try expand("{{ toUpper \"abc\" }} {{ toLower \"ABC\" }} {{ title \"hello big world\" }}") == "ABC abc Hello Big World")
        #expect(try expand("{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}") == "db-1")
        #expect(try expand("{{ $labels.instance | reReplaceAll \":[0-9]+\" \"\" }}") == "db-1")
        #expect(try expand("{{ stripPort $labels.instance }}") == "db-1")
    }

    @Test func controlFlow() throws {
        #expect(try expand("{{ if gt $value 0.4 }}high{{ else }}low{{ end }}") == "high")
        #expect(try expand("{{ if lt $value 0.4 }}low{{ else if lt $value 0.6 }}mid{{ else }}high{{ end }}") == "mid")
        #expect(try expand("{{ with $labels.job }}job={{ . }}{{ end }}") == "job=node")
        #expect(try expand("{{ $x := \"v\" }}{{ $x }}") == "v")
        #expect(try expand("a  {{- \"b\" -}}  c") == "abc")
        #expect(try expand("{{/* a comment */}}x") == "x")
        #expect(try expand("{{ if eq $labels.job \"node\" \"other\" }}yes{{ end }}") == "yes")
    }

    @Test func queryFirstValueLabel() throws {
        let q: (String) throws -> [TemplateValue] = { expr in
            #expect(expr == "up{job=\"node\"}")
            return [.sample(labels: ["__name__": "up", "instance": "a"], value: 1), .sample(labels: ["__name__": "up", "instance": "b"], value: 0)]
        }
        #expect(try expand("{{ with query \"up{job=\\\"node\\\"}\" }}{{ . | first | value }}{{ end }}", query: q) == "1")
        #expect(try expand("{{ range query \"up{job=\\\"node\\\"}\" }}{{ .Labels.instance }}={{ .Value }};{{ end }}", query: q) == "a=1;b=0;")
        #expect(try expand("{{ query \"up{job=\\\"node\\\"}\" | first | label \"instance\" }}", query: q) == "a")
    }

    @Test func errorsLookLikeGos() {
        #expect(throws: TemplateError.self) { try Template.parse("{{ $labels.instance ", name: "__alert_X") }
        do {
            _ = try Template.parse("{{ $labels.instance ", name: "__alert_X")
        } catch {
            #expect("\(error)" == "template: __alert_X:1: unclosed action")
        }
        do {
            _ = try Template.parse("{{ nosuchfunc 1 }}", name: "__alert_X")
        } catch {
            #expect("\(error)" == "template: __alert_X:1: function \"nosuchfunc\" not defined")
        }
        // At run time an error becomes the expanded text, as in Prometheus.
        let out = Template.expand("{{ first 1 }}", name: "__alert_X", data: TemplateData(labels: [:], value: 0))
        #expect(out.hasPrefix("<error expanding template: template: __alert_X:1: error calling first"))
    }
}
