/// One lexical token of a PromQL query, as `PromQLLexer` produces it.
///
/// `start` and `end` are UTF-8 byte offsets into the query. `text` is the source text of the
/// token (for strings including the quotes); `stringValue` is the unescaped value of a string.
public struct PromQLToken: Hashable, Sendable, CustomStringConvertible {
    /// What a token is. Keywords are matched case-insensitively; `inf` and `nan` lex as numbers.
    public enum Kind: UInt8, Hashable, Sendable {
        case eof
        case identifier
        /// An identifier containing a colon (only valid as a metric name).
        case metricIdentifier
        case number
        case duration
        case string

        case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket
        case comma, colon
        /// `=`, only meaningful inside braces.
        case assign

        // Operators.
        case add, sub, mul, div, mod, pow
        case eqlc, neq, lss, lte, gtr, gte
        case eqlRegex, neqRegex
        case at
        case land, lor, lunless
        case atan2

        // Aggregators.
        case sum, avg, count, min, max, group, stddev, stdvar
        case topk, bottomk, countValues, quantile, limitk, limitRatio

        // Keywords.
        case bool, by, without, on, ignoring, groupLeft, groupRight, offset

        // `@` modifier preprocessors.
        case start, end

        public var isOperator: Bool {
            switch self {
            case .add, .sub, .mul, .div, .mod, .pow, .eqlc, .neq, .lss, .lte, .gtr, .gte,
                 .eqlRegex, .neqRegex, .at, .land, .lor, .lunless, .atan2:
                return true
            default:
                return false
            }
        }

        public var isAggregator: Bool {
            switch self {
            case .sum, .avg, .count, .min, .max, .group, .stddev, .stdvar,
                 .topk, .bottomk, .countValues, .quantile, .limitk, .limitRatio:
                return true
            default:
                return false
            }
        }

        public var isKeyword: Bool {
            switch self {
            case .bool, .by, .without, .on, .ignoring, .groupLeft, .groupRight, .offset: return true
            default: return false
            }
        }

        /// Tokens that may name a label in `by (...)`, `on (...)` and similar lists.
        var canBeGroupingLabel: Bool {
            switch self {
            case .identifier, .metricIdentifier, .bool, .by, .groupLeft, .groupRight, .ignoring,
                 .land, .lor, .lunless, .offset, .on, .start, .end, .atan2:
                return true
            default:
                return isAggregator
            }
        }

        /// Tokens that may name a metric at the start of an expression.
        var canBeMetricName: Bool {
            switch self {
            case .identifier, .metricIdentifier, .land, .lor, .lunless, .by, .without, .offset, .start, .end:
                return true
            default:
                return isAggregator
            }
        }
    }

    public var kind: Kind
    public var start: Int
    public var end: Int
    public var text: String
    public var stringValue: String?

    public init(kind: Kind, start: Int, end: Int, text: String, stringValue: String? = nil) {
        self.kind = kind
        self.start = start
        self.end = end
        self.text = text
        self.stringValue = stringValue
    }

    public var positionRange: PromQLPositionRange { PromQLPositionRange(start: start, end: end) }

    /// How Prometheus names the token in "unexpected ..." messages: `identifier "foo"`, `<op:+>`,
    /// `<aggr:sum>`, `<by>`, `"("`, `end of input`.
    public var errorDescription: String {
        switch kind {
        case .eof: return "end of input"
        case .identifier: return "identifier " + GoFormat.quote(text)
        case .metricIdentifier: return "metric identifier " + GoFormat.quote(text)
        case .number: return "number " + shortQuote(text)
        case .duration: return "duration " + shortQuote(text)
        case .string: return "string " + shortQuote(text)
        default:
            if kind.isKeyword { return "<" + text + ">" }
            if kind.isOperator { return "<op:" + text + ">" }
            if kind.isAggregator { return "<aggr:" + text + ">" }
            return shortQuote(text)
        }
    }

    public var description: String { "\(kind)(\(text))@\(start)" }

    private func shortQuote(_ s: String) -> String {
        s.utf8.count > 10 ? GoFormat.quote(s, maxRunes: 10) + "..." : GoFormat.quote(s)
    }
}
