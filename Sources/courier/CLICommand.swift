import Courier

/// Where a command writes, so tests can capture it.
protocol OutputSink: Sendable {
    func write(_ text: String)
}

/// What a command runs with: its output streams, the environment and the transports it may build.
struct CLIContext: Sendable {
    var standardOutput: any OutputSink
    var standardError: any OutputSink
    var environment: [String: String]
    var registry: TransportRegistry

    func print(_ text: String = "") { standardOutput.write(text + "\n") }
    func printError(_ text: String) { standardError.write(Redaction.scrub(text) + "\n") }
}

/// Exit codes: 0 ok, 1 the command failed, 2 the command line was wrong.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// A subcommand of `courier`.
protocol CLICommand: Sendable {
    /// The subcommand's name, such as `check`.
    var name: String { get }
    /// One sentence for the command list and the help's OVERVIEW.
    var abstract: String { get }
    /// Extra help paragraphs, if any.
    var discussion: String? { get }
    var options: [OptionSpec] { get }
    /// Hidden commands (internal worker processes) are left out of the command list.
    var isHidden: Bool { get }
    /// Runs with parsed options; returns the exit code.
    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32
}

extension CLICommand {
    var discussion: String? { nil }
    var isHidden: Bool { false }

    /// Help laid out like swift-argument-parser's: OVERVIEW, USAGE, OPTIONS.
    var help: String {
        let all = options + [OptionSpec(name: "help", valueName: nil, help: "Show help information.", shortName: "h")]
        var usage = "courier \(name)"
        for option in options {
            let piece = option.valueName.map { "--\(option.name) <\($0)>" } ?? "--\(option.name)"
            usage += " [\(piece)\(option.repeatable ? " ..." : "")]"
        }
        var text = "OVERVIEW: \(abstract)\n"
        if let discussion { text += "\n\(discussion)\n" }
        text += "\nUSAGE: \(usage)\n\nOPTIONS:\n"
        let width = min(34, (all.map(\.display.count).max() ?? 0) + 2)
        for option in all {
            let label = option.display
            let pad = label.count < width ? String(repeating: " ", count: width - label.count) : "\n  " + String(repeating: " ", count: width)
            text += "  \(label)\(pad)\(option.help)\n"
        }
        return text
    }
}
