import Courier

/// `courier check`: loads and validates a configuration and lists its transports with capabilities.
struct CheckCommand: CLICommand {
    let name = "check"
    let abstract = "Load and validate a configuration; list its transports and their capabilities."
    let discussion: String? = """
        Transports come from --transport flags, else $\(ConfigurationSources.transportsVariable) (comma-separated URLs), \
        else the JSON file named by --config or $\(ConfigurationSources.configFileVariable). Nothing is connected; \
        secrets in URLs are never printed.
        """
    var options: [OptionSpec] { ConfigurationOptions.specs }

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        if let extra = arguments.positionals.first {
            throw UsageError("unexpected argument '\(extra)'; transports are given with --transport URL")
        }
        let configuration = try ConfigurationOptions.load(arguments, context: context)
        let count = configuration.transports.count
        context.print("Configuration OK: \(count) transport\(count == 1 ? "" : "s") in order of preference.")
        for (index, transport) in configuration.transports.enumerated() {
            let role = index == 0 ? "primary" : "fallback \(index)"
            context.print("")
            context.print("\(index + 1). \(transport.spec.name)  (\(role); from \(transport.origin))")
            if transport.spec.name != transport.spec.url.redacted {
                context.print("   url: \(transport.spec.url.redacted)")
            }
            for (capability, value) in transport.capabilities.listing {
                context.print("   \(capability.padding(toLength: 24, withPad: " ", startingAt: 0))\(value)")
            }
        }
        return ExitCode.success
    }
}
