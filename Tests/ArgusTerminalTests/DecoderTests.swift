@testable import ArgusTerminal
import Testing

@Suite struct PromDecoderTests {
    @Test func matrixVectorScalarAndErrors() throws {
        let m = try PromDecoder.matrix(bytes("""
        {"status":"success","data":{"resultType":"matrix","result":[
          {"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"]]}]}}
        """), legend: "job={{job}} {{missing}}!")
        #expect(m.count == 1)
        #expect(m[0].name == "job=a !")
        #expect(m[0].times == [1_700_000_000, 1_700_000_015.5, 1_700_000_030])
        #expect(m[0].values[0] == 1 && m[0].values[1].isNaN && m[0].values[2] == .infinity)
        #expect(m[0].last == 1)
        let v = try PromDecoder.vector(bytes("""
        {"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"x","b":"2","a":"1"},"value":[1700000000.123,"2.5"]}]}}
        """))
        #expect(v == [VectorSample(labels: ["__name__": "x", "a": "1", "b": "2"], name: "x{a=\"1\", b=\"2\"}", time: 1_700_000_000.123, value: 2.5)])
        let s = try PromDecoder.vector(bytes(#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}}"#))
        #expect(s.map(\.value) == [42])
        #expect(throws: DataSourceError.self) {
            try PromDecoder.matrix(bytes(#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#))
        }
        do { _ = try PromDecoder.matrix(bytes(#"{"status":"error","errorType":"bad_data","error":"boom"}"#)) } catch { #expect("\(error)" == "boom") }
        do { _ = try PromDecoder.matrix(bytes("<html>")) } catch { #expect("\(error)" == "the answer is not JSON: <html>") }
    }

    @Test func labelValuesAndExemplars() throws {
        #expect(try PromDecoder.labelValues(bytes(#"{"status":"success","data":["a","b"]}"#)) == ["a", "b"])
        let ex = try PromDecoder.exemplars(bytes("""
        {"status":"success","data":[{"seriesLabels":{"__name__":"lat_bucket","service":"cart"},
          "exemplars":[{"labels":{"trace_id":"abc123"},"value":"0.25","timestamp":1700000010.5},
                       {"labels":{"traceID":"def"},"value":"1","timestamp":1700000005}]}]}
        """), legend: "{{service}}")
        #expect(ex.map(\.traceID) == ["def", "abc123"])
        #expect(ex[1].value == 0.25)
        #expect(ex[1].seriesName == "cart")
    }
}

@Suite struct LokiTempoDecoderTests {
    @Test func lokiStreamsWithStructuredMetadata() throws {
        let lines = try LokiDecoder.streams(bytes("""
        {"status":"success","data":{"resultType":"streams","result":[
          {"stream":{"service_name":"cart","level":"error"},"values":[
            ["1700000000000000000","payment failed",{"trace_id":"0af7651916cd43dd8448eb211c80319c"}],
            ["1700000002000000000","retrying"]]},
          {"stream":{"service_name":"web"},"values":[["1700000001000000000","level=warn msg=slow",{"structuredMetadata":{"span_id":"b7ad6b7169203331"}}]]}],
          "stats":{}}}
        """))
        #expect(lines.map(\.line) == ["retrying", "level=warn msg=slow", "payment failed"])
        #expect(lines[2].metadata["trace_id"] == "0af7651916cd43dd8448eb211c80319c")
        #expect(lines[2].severity == "error")
        #expect(lines[1].severity == "warn")
        #expect(lines[1].metadata["span_id"] == "b7ad6b7169203331")
        #expect(lines[0].timeNanos == 1_700_000_002_000_000_000)
        #expect(throws: DataSourceError.self) {
            try LokiDecoder.streams(bytes(#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#))
        }
    }

    @Test func tempoSearch() throws {
        let t = try TempoDecoder.search(bytes("""
        {"traces":[{"traceID":"2f3e0cee77ae5dc9c17ade3689eb2e54","rootServiceName":"shop-web","rootTraceName":"GET /checkout",
          "startTimeUnixNano":"1700000000123000000","durationMs":245},
          {"traceID":"ab","startTimeUnixNano":"1700000001000000000"}],"metrics":{"inspectedTraces":2}}
        """))
        #expect(t[0] == TraceSummary(traceID: "2f3e0cee77ae5dc9c17ade3689eb2e54", rootService: "shop-web", rootName: "GET /checkout",
                                      startNanos: 1_700_000_000_123_000_000, durationMs: 245))
        #expect(t[1].rootService == "<root span not yet received>")
        #expect(t[1].durationMs == 0)
    }

    @Test func tempoTraceInBatchesAndResourceSpans() throws {
        let spans = try TempoDecoder.trace(bytes("""
        {"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeSpans":[{"scope":{"name":"x"},"spans":[
            {"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"B7AD6B7169203331","parentSpanId":"","name":"POST /pay",
             "kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
             "attributes":[{"key":"http.status_code","value":{"intValue":"500"}},{"key":"retry","value":{"boolValue":true}}],
             "status":{"code":2,"message":"card declined"}}]}]},
         {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"payments"}}]},
          "instrumentationLibrarySpans":[{"spans":[
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7","parentSpanId":"b7ad6b7169203331","name":"charge",
             "kind":3,"startTimeUnixNano":"1700000000010000000","endTimeUnixNano":"1700000000200000000","status":{"code":"STATUS_CODE_OK"}}]}]}]}
        """))
        #expect(spans.count == 2)
        #expect(spans[0].traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(spans[0].spanID == "b7ad6b7169203331")
        #expect(spans[0].service == "checkout")
        #expect(spans[0].kind == "server")
        #expect(spans[0].isError && spans[0].statusMessage == "card declined")
        #expect(spans[0].durationNanos == 250_000_000)
        #expect(spans[0].attributes.map { $0.0 + "=" + $0.1 } == ["http.status_code=500", "retry=true"])
        #expect(spans[1].service == "payments" && spans[1].kind == "client" && spans[1].statusCode == 1)
        #expect(spans[1].parentID == "b7ad6b7169203331")
        // Protobuf JSON mapping: ids in base64.
        let b64 = try TempoDecoder.trace(bytes("""
        {"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[
          {"traceId":"CvdlGRbNQ92ESOshHIAxnA==","spanId":"t61rcWkgMzE=","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}
        """))
        #expect(b64[0].traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(b64[0].spanID == "b7ad6b7169203331")
        #expect(b64[0].service == "unknown")
        #expect(throws: DataSourceError.self) { try TempoDecoder.trace(bytes(#"{"message":"trace not found"}"#)) }
    }

    @Test func traceTreeOrdersAndFolds() {
        func span(_ id: String, _ parent: String, _ start: Int64) -> TraceSpan {
            TraceSpan(traceID: "t", spanID: id, parentID: parent, name: id, service: "s", startNanos: start, endNanos: start + 10)
        }
        let spans = [span("c", "a", 5), span("a", "", 0), span("b", "a", 2), span("d", "b", 3), span("orphan", "zz", 1)]
        let rows = TraceTree.rows(spans, folded: [])
        #expect(rows.map(\.span.spanID) == ["a", "b", "d", "c", "orphan"])
        #expect(rows.map(\.depth) == [0, 1, 2, 1, 0])
        #expect(rows[0].childCount == 2)
        #expect(TraceTree.rows(spans, folded: ["b"]).map(\.span.spanID) == ["a", "b", "c", "orphan"])
    }
}

@Suite struct TemplateTests {
    @Test func substitutesVariablesAndBuiltins() {
        let vals = ["service": "cart", "service_name": "web", "env": "prod"]
        #expect(Template.substitute("rate(x{s=\"$service\",n=\"$service_name\",e=\"${env}\",f=\"[[env]]\"}[$__rate_interval])",
                                    values: vals, stepSeconds: 15, rangeMillis: 3_600_000)
                == "rate(x{s=\"cart\",n=\"web\",e=\"prod\",f=\"prod\"}[60s])")
        #expect(Template.substitute("increase(x[$__range]) $unknown $__interval", values: [:], stepSeconds: 90, rangeMillis: 5_400_000)
                == "increase(x[1h30m]) $unknown 90s")
        #expect(Template.substitute("[$__rate_interval]", values: [:], stepSeconds: 120, rangeMillis: 1000) == "[135s]")
    }

    @Test func allExpandsToAnEscapedAlternation() {
        let d = Dashboard(title: "d", variables: [Variable(name: "s", kind: .custom(["a.b", "c"]), includeAll: true)],
                          panels: [Panel(title: "p", type: .timeseries, targets: [Target(expr: "x{s=~\"$s\"}")])])
        let state = DashState(dashboards: [.ok(d)])
        #expect(state.variableValues["s"] == "All")
        #expect(Template.value(of: d.variables[0], state: state, data: DashData()) == "(a\\\\.b|c)")
    }

    @Test func labelValuesQueries() {
        #expect(LabelValuesQuery("label_values(job)")?.label == "job")
        #expect(LabelValuesQuery("label_values(job)")?.selector == nil)
        #expect(LabelValuesQuery("label_values(up{a=\"x,y\"}, instance)")?.selector == "up{a=\"x,y\"}")
        #expect(LabelValuesQuery("label_values(up{a=\"x,y\"}, instance)")?.label == "instance")
        #expect(LabelValuesQuery("up") == nil)
        #expect(LabelValuesQuery("label_values(up, a-b)") == nil)
    }

    @Test func valueFormats() {
        #expect(ValueFormat.format(0.0042, unit: "s") == "4.2 ms")
        #expect(ValueFormat.format(1536, unit: "bytes") == "1.5 KiB")
        #expect(ValueFormat.format(0.253, unit: "percentunit") == "25.3%")
        #expect(ValueFormat.format(12345, unit: "reqps") == "12.35k req/s")
        #expect(ValueFormat.format(3, unit: "") == "3")
        #expect(ValueFormat.format(2.5, unit: "celsius") == "2.5 celsius")
        #expect(ValueFormat.format(1.23456, unit: "none", decimals: 1) == "1.2")
        #expect(ValueFormat.range(5_400_000) == "1h30m")
    }
}
