import ArgusModel

/// A parsed TraceQL query: a spanset expression and its pipeline stages.
public struct TraceQLQuery: Sendable, CustomStringConvertible {
    public var spanset: TraceQLSpansetExpr
    public var stages: [TraceQLStage]

    public var description: String {
        ([spanset.description] + stages.map(\.description)).joined(separator: " | ")
    }

    /// Every attribute the query reads, for the matched-span attributes Tempo returns.
    public var attributes: [TraceQLAttribute] {
        var out: [TraceQLAttribute] = []
        spanset.collectAttributes(into: &out)
        for s in stages {
            switch s {
            case .filter(let e): e.collectAttributes(into: &out)
            case .by(let a), .select(let a): out += a
            case .aggregate: break
            }
        }
        return out
    }
}

public indirect enum TraceQLSpansetExpr: Sendable, CustomStringConvertible {
    /// `{ expr }`; nil matches every span (`{ }`).
    case filter(TraceQLFieldExpr?)
    case binary(TraceQLSpansetOp, TraceQLSpansetExpr, TraceQLSpansetExpr)

    public var description: String {
        switch self {
        case .filter(nil): return "{ }"
        case .filter(let e?): return "{ \(e) }"
        case .binary(let op, let l, let r): return "(\(l)) \(op.rawValue) (\(r))"
        }
    }

    func collectAttributes(into out: inout [TraceQLAttribute]) {
        switch self {
        case .filter(let e): e?.collectAttributes(into: &out)
        case .binary(_, let l, let r):
            l.collectAttributes(into: &out)
            r.collectAttributes(into: &out)
        }
    }
}

public enum TraceQLSpansetOp: String, Sendable, CaseIterable {
    case and = "&&", or = "||"
    /// Structural: right-hand spans whose parent / an ancestor / a child / a descendant /
    /// a sibling is a left-hand span.
    case child = ">", descendant = ">>", parent = "<", ancestor = "<<", sibling = "~"
    /// Negated structural: right-hand spans for which the relation holds with no left-hand span
    /// (a root is no child of anything, so `{ A } !> { B }` keeps B roots).
    case notChild = "!>", notDescendant = "!>>", notParent = "!<", notAncestor = "!<<", notSibling = "!~"
    /// Union structural: the right-hand spans of the plain relation together with the left-hand
    /// spans on the other end of it (`{ A } &> { B }`: B children of an A, and A parents of a B).
    case unionChild = "&>", unionDescendant = "&>>", unionParent = "&<", unionAncestor = "&<<", unionSibling = "&~"

    /// A structural operator (any but `&&` and `||`).
    public var isStructural: Bool { self != .and && self != .or }
}

public indirect enum TraceQLFieldExpr: Sendable, CustomStringConvertible {
    case and(TraceQLFieldExpr, TraceQLFieldExpr)
    case or(TraceQLFieldExpr, TraceQLFieldExpr)
    case not(TraceQLFieldExpr)
    case compare(TraceQLOperand, TraceQLCompareOp, TraceQLOperand)
    /// A bare operand: true when it is the boolean `true`.
    case operand(TraceQLOperand)

    public var description: String {
        switch self {
        case .and(let l, let r): return "(\(l) && \(r))"
        case .or(let l, let r): return "(\(l) || \(r))"
        case .not(let e): return "!(\(e))"
        case .compare(let l, let op, let r): return "\(l) \(op.rawValue) \(r)"
        case .operand(let o): return o.description
        }
    }

    func collectAttributes(into out: inout [TraceQLAttribute]) {
        switch self {
        case .and(let l, let r), .or(let l, let r):
            l.collectAttributes(into: &out)
            r.collectAttributes(into: &out)
        case .not(let e): e.collectAttributes(into: &out)
        case .compare(let l, _, let r):
            if case .attribute(let a) = l { out.append(a) }
            if case .attribute(let a) = r { out.append(a) }
        case .operand(let o):
            if case .attribute(let a) = o { out.append(a) }
        }
    }
}

public enum TraceQLCompareOp: String, Sendable {
    case eq = "=", ne = "!=", gt = ">", ge = ">=", lt = "<", le = "<=", re = "=~", nre = "!~"
}

public enum TraceQLOperand: Sendable, CustomStringConvertible {
    case attribute(TraceQLAttribute)
    case literal(TraceQLStatic)

    public var description: String {
        switch self {
        case .attribute(let a): return a.description
        case .literal(let s): return s.description
        }
    }
}

public enum TraceQLIntrinsic: String, Sendable, CaseIterable {
    case name, status, statusMessage, kind, duration, spanID = "span:id", parentID = "span:parentID"
    case traceDuration = "trace:duration", rootService = "trace:rootService", rootName = "trace:rootName", traceID = "trace:id"
    case eventName = "event:name", eventTimeSinceStart = "event:timeSinceStart", linkTraceID = "link:traceID", linkSpanID = "link:spanID"

    /// Spellings TraceQL accepts for each intrinsic (old and new).
    static let spellings: [String: TraceQLIntrinsic] = [
        "name": .name, "span:name": .name, "status": .status, "span:status": .status,
        "statusMessage": .statusMessage, "span:statusMessage": .statusMessage, "kind": .kind, "span:kind": .kind,
        "duration": .duration, "span:duration": .duration, "span:id": .spanID, "span:parentID": .parentID,
        "trace:duration": .traceDuration, "traceDuration": .traceDuration,
        "trace:rootService": .rootService, "rootServiceName": .rootService,
        "trace:rootName": .rootName, "rootName": .rootName, "trace:id": .traceID, "event:name": .eventName,
        "event:timeSinceStart": .eventTimeSinceStart,
        "link:traceID": .linkTraceID, "link:spanID": .linkSpanID,
    ]
}

/// An attribute reference: `span.x`, `resource.x`, `.x` (span, else resource), `event.x` (an
/// attribute of one of the span's events), `link.x` (of one of its links) or an intrinsic.
public struct TraceQLAttribute: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: String, Sendable { case span, resource, unscoped, intrinsic, event, link }
    public var scope: Scope
    public var name: String
    public var intrinsic: TraceQLIntrinsic?

    public var description: String {
        let plain = !name.isEmpty && name.utf8.allSatisfy { TraceQLParser.isWordByte($0) && $0 != UInt8(ascii: ":") }
        let n = plain ? name : JSONText.quoted(name)
        switch scope {
        case .span: return "span." + n
        case .resource: return "resource." + n
        case .unscoped: return "." + n
        case .event: return "event." + n
        case .link: return "link." + n
        case .intrinsic: return intrinsic?.rawValue ?? name
        }
    }

    /// The key Tempo shows for the attribute in matched spans.
    public var outputKey: String {
        switch scope {
        case .intrinsic: return intrinsic?.rawValue ?? name
        default: return name
        }
    }

    /// The attribute can take one value per event or link of a span: a comparison holds for
    /// the span when it holds for one of them.
    var perEventOrLink: Bool {
        switch scope {
        case .event, .link: return true
        case .intrinsic:
            return intrinsic == .eventName || intrinsic == .eventTimeSinceStart || intrinsic == .linkTraceID || intrinsic == .linkSpanID
        default: return false
        }
    }
}

public enum TraceQLStatic: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case float(Double)
    /// Nanoseconds.
    case duration(Int64)
    case bool(Bool)
    case `nil`
    case status(SpanStatus)
    case kind(SpanKind)

    public var description: String {
        switch self {
        case .string(let s): return JSONText.quoted(s)
        case .int(let i): return String(i)
        case .float(let f): return "\(f)"
        case .duration(let d): return TraceQLStatic.formatDuration(d)
        case .bool(let b): return b ? "true" : "false"
        case .nil: return "nil"
        case .status(let s): return s.traceQLName
        case .kind(let k): return k.traceQLName
        }
    }

    static func formatDuration(_ ns: Int64) -> String {
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1000 == 0 { return "\(ns / 1000)us" }
        return "\(ns)ns"
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let f): return f
        case .duration(let d): return Double(d)
        default: return nil
        }
    }
}

public enum TraceQLAggregate: String, Sendable { case count, avg, min, max, sum }

public enum TraceQLStage: Sendable, CustomStringConvertible {
    case aggregate(TraceQLAggregate, TraceQLAttribute?, TraceQLCompareOp, TraceQLStatic)
    case by([TraceQLAttribute])
    case select([TraceQLAttribute])
    case filter(TraceQLSpansetExpr)

    public var description: String {
        switch self {
        case .aggregate(let f, let a, let op, let v): return "\(f.rawValue)(\(a?.description ?? "")) \(op.rawValue) \(v)"
        case .by(let a): return "by(\(a.map(\.description).joined(separator: ", ")))"
        case .select(let a): return "select(\(a.map(\.description).joined(separator: ", ")))"
        case .filter(let e): return e.description
        }
    }
}

/// A TraceQL syntax error with its position: prints as Tempo does,
/// `parse error at line 1, col 17: syntax error: unexpected }`.
public struct TraceQLParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int
    public let line: Int
    public let column: Int
    public let query: String

    public var description: String { "parse error at line \(line), col \(column): \(message)" }
}
