/// A problem in a dashboard file, with where it is: prints as `file:line:column: message`
/// (line and column left out when unknown).
public struct DashboardError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int = 0, column: Int = 0, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// The description with the file's name only (for narrow places like the footer).
    public var shortDescription: String {
        var e = self
        e.file = (file as NSString).lastPathComponent
        return e.description
    }

    public var description: String {
        var s = file
        if line > 0 { s += ":\(line)" }
        if line > 0, column > 0 { s += ":\(column)" }
        return s + ": " + message
    }
}

/// The result of loading one dashboard file: the dashboard, or the error that stopped it.
public enum LoadedDashboard: Sendable, Equatable {
    case ok(Dashboard)
    case failed(DashboardError)

    public var dashboard: Dashboard? {
        if case .ok(let d) = self { return d }
        return nil
    }

    public var error: DashboardError? {
        if case .failed(let e) = self { return e }
        return nil
    }

    /// The dashboard's title, or the file name for one that failed.
    public var title: String {
        switch self {
        case .ok(let d): return d.title
        case .failed(let e): return (e.file as NSString).lastPathComponent
        }
    }
}

import Foundation
