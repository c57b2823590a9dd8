/// One option a command accepts.
struct OptionSpec: Sendable {
    /// The long name without dashes, kebab-case.
    let name: String
    /// `nil` for a flag; otherwise the placeholder shown in help, such as `url`.
    let valueName: String?
    let help: String
    var repeatable = false
    var shortName: Character?

    var display: String {
        var text = shortName.map { "-\($0), " } ?? ""
        text += "--\(name)"
        if let valueName { text += " <\(valueName)>" }
        return text
    }
}

/// A wrong command line: the message says what was wrong and points at `--help`.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The options and arguments of one command invocation.
struct ParsedArguments: Sendable {
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Parses `arguments` against `options`. `--name value`, `--name=value` and `-x value` are accepted;
    /// `--` ends options.
    static func parse(_ arguments: [String], options: [OptionSpec], command: String) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
            }
            let spec = argument.hasPrefix("--")
                ? options.first { $0.name == name }
                : options.first { argument.count == 2 && $0.shortName == argument.last }
            guard let spec else {
                throw UsageError("unknown option '\(argument)' for '\(command)'; see '\(command) --help'")
            }
            guard spec.valueName != nil else {
                if inlineValue != nil { throw UsageError("'--\(spec.name)' takes no value; see '\(command) --help'") }
                parsed.flags.insert(spec.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                throw UsageError("'--\(spec.name)' needs a value <\(spec.valueName ?? "value")>; see '\(command) --help'")
            }
            if !spec.repeatable, parsed.values[spec.name] != nil {
                throw UsageError("'--\(spec.name)' was given twice; give it once")
            }
            parsed.values[spec.name, default: []].append(value)
        }
        return parsed
    }

    /// Reads a whole-number option in `range`.
    func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("'--\(name) \(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
