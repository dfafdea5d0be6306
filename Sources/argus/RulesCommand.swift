import ArgumentParser
import ArgusModel
import ArgusQuery
import ArgusRules
import Foundation

/// `argus rules check` and `argus rules test`: promtool's `check rules` and `test rules`.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check rule files and run rule unit tests (as promtool check rules / test rules).",
        subcommands: [Check.self, Test.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check Prometheus rule files; exit 1 with file:line errors when one is wrong.")

        @Argument(help: "Rule files to check.")
        var files: [String]

        func run() async throws {
            var failed = false
            for f in files {
                print("Checking \(f)")
                do {
                    let groups = try RuleFileLoader.load(path: f)
                    let n = groups.reduce(0) { $0 + $1.rules.count }
                    print("  SUCCESS: \(n) rules found")
                } catch {
                    failed = true
                    fflush(stdout)
                    let lines = (error as? RuleFileErrors)?.errors.map(\.description) ?? ["\(f): \(error)"]
                    FileHandle.standardError.write(Data(("  FAILED:\n" + lines.joined(separator: "\n") + "\n").utf8))
                }
                print("")
            }
            if failed { throw ExitCode.failure }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rule unit tests in promtool's format (rule_files, input_series, alert_rule_test, promql_expr_test).")

        @Argument(help: "Unit test files.")
        var files: [String]

        func run() async throws {
            var failed = false
            let tester = RuleUnitTester()
            for f in files {
                print("Unit Testing:  \(f)")
                fflush(stdout)
                let errs = await tester.run(file: f)
                if errs.isEmpty {
                    print("  SUCCESS")
                } else {
                    failed = true
                    FileHandle.standardError.write(Data("  FAILED:\n".utf8))
                    for e in errs {
                        FileHandle.standardError.write(Data((e + "\n").utf8))
                        print("")
                    }
                }
                print("")
                fflush(stdout)
            }
            if failed { throw ExitCode.failure }
        }
    }
}
