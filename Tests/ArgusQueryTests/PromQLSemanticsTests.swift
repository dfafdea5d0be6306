import ArgusModel
import Testing
@testable import ArgusQuery

@Suite("PromQL precedence, numbers, durations and functions")
struct PromQLSemanticsTests {
    @Test("operator precedence and associativity", arguments: [
        ("a + b * c", "(a + (b * c))"),
        ("a * b + c", "((a * b) + c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b / c", "((a / b) / c)"),
        ("a / b * c % d", "(((a / b) * c) % d)"),
        ("a ^ b ^ c", "(a ^ (b ^ c))"),
        ("a * b ^ c", "(a * (b ^ c))"),
        ("a ^ b * c", "((a ^ b) * c)"),
        ("a atan2 b * c", "((a atan2 b) * c)"),
        ("a + b atan2 c", "(a + (b atan2 c))"),
        ("a == b + c", "(a == (b + c))"),
        ("a > b == c", "((a > b) == c)"),
        ("a + b > c or d", "(((a + b) > c) or d)"),
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c", "((a and b) or c)"),
        ("a unless b and c", "((a unless b) and c)"),
        ("a or b or c", "((a or b) or c)"),
        ("a and b == c", "(a and (b == c))"),
        ("1 + 2 * 3 ^ 2 ^ 1 - 4", "((1 + (2 * (3 ^ (2 ^ 1)))) - 4)"),
        ("(a + b) * c", "(((a + b)) * c)"),
        ("-a ^ b", "-(a ^ b)"),
        ("-a * b", "(-a * b)"),
        ("-a + b", "(-a + b)"),
        ("a + -b", "(a + -b)"),
        ("a ^ -b ^ c", "(a ^ -(b ^ c))"),
        ("-1 ^ 2", "-(1 ^ 2)"),
        ("-1 * 2", "(-1 * 2)"),
        ("2 ^ -1", "(2 ^ -1)"),
        ("a + b offset 5m", "(a + b offset 5m)"),
        ("-a offset 1m", "-a offset 1m"),
        ("a + b @ 10", "(a + b @ 10.000)"),
    ])
    func precedence(_ query: String, _ grouped: String) throws {
        #expect(grouping(try PromQLParser.parse(query)) == grouped)
    }

    @Test("unary minus on a number literal folds into the literal, elsewhere it is a node")
    func unaryFolding() throws {
        #expect(try PromQLParser.parse("-1") == num(-1))
        #expect(try PromQLParser.parse("- 2.5") == num(-2.5))
        #expect(try PromQLParser.parse("+-+3") == num(-3))
        #expect(try PromQLParser.parse("-(1)") == neg(paren(num(1))))
        #expect(try PromQLParser.parse("-1^2") == neg(bin(.pow, num(1), num(2))))
        #expect(try PromQLParser.parse("-time()") == neg(call("time")))
    }

    @Test("number literals", arguments: [
        ("1", 1.0), ("0x1F", 31), ("0X_ff", 255), ("1e3", 1000), (".5", 0.5), ("5.", 5), ("0755", 493), ("08", 8),
        ("09.5", 9.5), ("1_000", 1000), ("1_000.5_5", 1000.55), ("0x1E3", 483), ("1.5e-3", 0.0015), ("2E+2", 200),
        ("9223372036854775807", 9_223_372_036_854_775_807), ("99999999999999999999", 1e20), ("Inf", .infinity),
        ("-inf", -.infinity), ("0", 0),
    ])
    func numbers(_ query: String, _ value: Double) throws {
        #expect(try PromQLParser.parse(query) == num(value))
    }

    @Test("NaN parses and compares equal to NaN")
    func nan() throws {
        guard case .number(let n) = try PromQLParser.parse("NaN") else {
            Issue.record("not a number literal")
            return
        }
        #expect(n.value.isNaN)
    }

    static let rangeCases: [(String, Int64)] = [
        ("x[1h30m]", 90 * minute), ("x[500ms]", 500), ("x[1y]", year), ("x[2w]", 2 * week), ("x[3d]", 3 * day),
        ("x[1y2w3d4h5m6s7ms]", year + 2 * week + 3 * day + 4 * hour + 5 * minute + 6 * second + 7),
        ("x[1.5]", 1500), ("x[0.0015]", 1), ("x[0x10]", 16 * second), ("x[1e2]", 100 * second),
        ("x[292y]", 292 * year),
    ]

    @Test("durations and numbers of seconds as ranges, in milliseconds", arguments: rangeCases)
    func ranges(_ query: String, _ ms: Int64) throws {
        #expect(try PromQLParser.parse(query) == matrix(sel("x"), ms))
    }

    static let offsetCases: [(String, Int64)] = [
        ("x offset 5m", 5 * minute), ("x offset -5m", -5 * minute), ("x offset 1.5", 1500), ("x offset -30", -30 * second),
        ("x offset 1y", year), ("x offset 0s", 0),
    ]

    @Test("offsets, including numbers of seconds and negative values", arguments: offsetCases)
    func offsets(_ query: String, _ ms: Int64) throws {
        #expect(try PromQLParser.parse(query) == vs("x", offset: ms))
    }

    @Test("durations used as numbers are seconds")
    func durationNumbers() throws {
        #expect(try PromQLParser.parse("1h") == num(3600))
        #expect(try PromQLParser.parse("vector(90s)") == call("vector", num(90)))
        #expect(try PromQLParser.parse("foo > 5m") == bin(.gtr, vs("foo"), num(300)))
    }

    @Test("the function table")
    func functionTable() {
        let rate = PromQLFunction.named("rate")
        #expect(rate?.argTypes == [.matrix])
        #expect(rate?.returnType == .vector)
        #expect(PromQLFunction.named("time")?.returnType == .scalar)
        #expect(PromQLFunction.named("label_join")?.variadic == -1)
        #expect(PromQLFunction.named("label_join")?.maxArgs == nil)
        #expect(PromQLFunction.named("round")?.minArgs == 1)
        #expect(PromQLFunction.named("round")?.maxArgs == 2)
        #expect(PromQLFunction.named("hour")?.minArgs == 0)
        #expect(PromQLFunction.named("info") == nil)
        #expect(PromQLFunction.named("holt_winters") == nil)
        for name in ["sort_by_label", "sort_by_label_desc", "double_exponential_smoothing", "mad_over_time",
                     "ts_of_min_over_time", "ts_of_max_over_time", "ts_of_last_over_time"] {
            #expect(PromQLFunction.named(name)?.experimental == true, "\(name)")
        }
        #expect(PromQLFunction.named("rate")?.experimental == false)
        #expect(PromQLFunction.all.count == 79)
    }

    @Test("every function parses with arguments of its signature's types", arguments: PromQLFunction.all.keys.sorted())
    func everyFunction(_ name: String) throws {
        let f = try #require(PromQLFunction.named(name))
        func sample(_ type: PromQLValueType) -> String {
            switch type {
            case .scalar: return "1"
            case .vector: return "x"
            case .matrix: return "x[5m]"
            case .string: return "\"a\""
            case .none: return ""
            }
        }
        var args = f.argTypes.map(sample)
        // An unbounded function takes its last argument type once more.
        if f.variadic < 0 { args.append(sample(f.argTypes.last!)) }
        let query = name + "(" + args.joined(separator: ", ") + ")"
        let e = try PromQLParser.parse(query)
        #expect(e.type == f.returnType)
        #expect(try PromQLParser.parse(e.description) == e)
        if f.minArgs < f.argTypes.count {
            let shortest = name + "(" + args.prefix(f.minArgs).joined(separator: ", ") + ")"
            #expect(throws: Never.self) { try PromQLParser.parse(shortest) }
        }
    }

    @Test("aggregators that take a parameter", arguments: Expr.AggregateOp.allCases)
    func aggregators(_ op: Expr.AggregateOp) throws {
        let query: String
        switch op.parameterType {
        case .string?: query = op.rawValue + "(\"label\", x)"
        case .scalar?: query = op.rawValue + "(1, x)"
        default: query = op.rawValue + "(x)"
        }
        let e = try PromQLParser.parse(query)
        guard case .aggregate(let a) = e else {
            Issue.record("not an aggregation: \(e)")
            return
        }
        #expect(a.op == op)
        #expect((a.param != nil) == op.hasParameter)
        #expect(e.description == query)
    }
}
