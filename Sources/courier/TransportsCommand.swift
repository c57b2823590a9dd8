import Courier

/// `courier transports`: the URL schemes this build can make transports for.
struct TransportsCommand: CLICommand {
    let name = "transports"
    let abstract = "List the registered transport URL schemes."
    let options: [OptionSpec] = []

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        if let extra = arguments.positionals.first {
            throw UsageError("unexpected argument '\(extra)'; 'courier transports' takes none")
        }
        for scheme in context.registry.schemes {
            guard let factory = context.registry.factory(for: scheme) else { continue }
            context.print("\((scheme + "://").padding(toLength: 12, withPad: " ", startingAt: 0))\(factory.summary)")
        }
        return ExitCode.success
    }
}
