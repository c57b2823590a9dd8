import Courier

/// The options every command that loads a configuration shares.
enum ConfigurationOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(
            name: "config", valueName: "path",
            help: "JSON configuration file (default: $\(ConfigurationSources.configFileVariable))."
        ),
        OptionSpec(
            name: "transport", valueName: "url",
            help: "A transport URL; repeat in order of preference (default: $\(ConfigurationSources.transportsVariable)).",
            repeatable: true
        ),
    ]

    static func load(_ arguments: ParsedArguments, context: CLIContext) throws -> CourierConfiguration {
        let sources = ConfigurationSources(
            configFile: arguments.value("config"),
            transportURLs: arguments.all("transport"),
            environment: context.environment
        )
        return try CourierConfiguration.load(from: sources, registry: context.registry)
    }
}
