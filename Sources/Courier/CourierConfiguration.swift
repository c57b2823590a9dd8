import Foundation

/// Where configuration comes from. Later sources replace the transport list of earlier ones:
/// the JSON file, then `COURIER_TRANSPORTS`, then `--transport` flags.
public struct ConfigurationSources: Sendable {
    /// A JSON file (`--config`); when `nil`, `COURIER_CONFIG` from ``environment`` is used.
    public var configFile: String?
    /// URLs from `--transport` flags, in order of preference.
    public var transportURLs: [String]
    /// The spool file from `--spool`; when `nil`, `COURIER_SPOOL`, then the file's `spool` section.
    public var spoolPath: String?
    /// The process environment (or a test's stand-in).
    public var environment: [String: String]

    public init(
        configFile: String? = nil,
        transportURLs: [String] = [],
        spoolPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configFile = configFile
        self.transportURLs = transportURLs
        self.spoolPath = spoolPath
        self.environment = environment
    }

    public static let configFileVariable = "COURIER_CONFIG"
    public static let transportsVariable = "COURIER_TRANSPORTS"
}

/// A transport after validation: its spec and the capabilities its factory reports.
public struct ConfiguredTransport: Sendable {
    public var spec: TransportSpec
    public var capabilities: TransportCapabilities
    /// Where it was configured, such as `transports[1]` or `--transport #2`.
    public var origin: String
}

/// Courier's configuration, validated against the registered transports when it loads.
///
/// JSON form (every field optional except `transports`; a transport is a URL string or an object):
/// ```json
/// { "transports": [ "memory://primary", { "name": "backup", "url": "amqp://127.0.0.1/", "options": { "prefetch": 32 } } ] }
/// ```
public struct CourierConfiguration: Sendable {
    /// Transports in order of preference: the first is the primary, the rest are failover targets.
    public var transports: [ConfiguredTransport]
    /// Retry, retry budget, breaker and relay settings of the producer pipeline.
    public var producer: ProducerConfiguration = ProducerConfiguration()
    /// The durable spool, when one is configured (file `spool` section, `COURIER_SPOOL`, or `--spool`).
    public var spool: SpoolSettings?

    /// Loads and validates configuration from `sources`. Every error names the field or URL and the fix,
    /// with secrets redacted.
    public static func load(from sources: ConfigurationSources, registry: TransportRegistry) throws -> CourierConfiguration {
        var entries: [RawTransport] = []
        var producer = ProducerConfiguration()
        var spool: SpoolSettings?
        if let path = sources.configFile ?? nonEmpty(sources.environment[ConfigurationSources.configFileVariable]) {
            let contents = try ConfigurationFile.read(path: path)
            entries = contents.transports
            producer = contents.producer
            spool = contents.spool
        }
        if let path = sources.spoolPath ?? nonEmpty(sources.environment[SpoolSettings.pathVariable]) {
            spool = SpoolSettings(path: path, maxMessages: spool?.maxMessages ?? 100_000, maxBytes: spool?.maxBytes ?? 256 << 20)
        }
        if let list = nonEmpty(sources.environment[ConfigurationSources.transportsVariable]) {
            entries = splitURLList(list).enumerated().map { index, url in
                RawTransport(origin: "\(ConfigurationSources.transportsVariable) entry \(index + 1)", url: url)
            }
        }
        if !sources.transportURLs.isEmpty {
            entries = sources.transportURLs.enumerated().map { index, url in
                RawTransport(origin: "--transport #\(index + 1)", url: url)
            }
        }
        guard !entries.isEmpty else {
            throw CourierError.configuration(
                field: "transports",
                "no transport is configured; pass --transport URL (for example --transport memory://demo), set \(ConfigurationSources.transportsVariable)=URL[,URL...], or give a JSON file with --config or \(ConfigurationSources.configFileVariable)"
            )
        }
        let transports = try entries.map { try validate($0, registry: registry) }.checkingUniqueNames()
        return CourierConfiguration(transports: transports, producer: producer, spool: spool)
    }

    private static func validate(_ entry: RawTransport, registry: TransportRegistry) throws -> ConfiguredTransport {
        do {
            let url = try TransportURL(entry.url)
            let spec = TransportSpec(url: url, name: entry.name, options: entry.options)
            return ConfiguredTransport(spec: spec, capabilities: try registry.capabilities(for: spec), origin: entry.origin)
        } catch let error as CourierError {
            var named = error
            named.message = "\(entry.origin): \(error.message)"
            throw named
        }
    }

    /// Splits `URL[,URL...]` at the commas that start a new `scheme://`, so a Kafka host list such as
    /// `kafka://a:9092,b:9092` stays one URL.
    private static func splitURLList(_ list: String) -> [String] {
        var urls: [String] = []
        for piece in list.split(separator: ",") {
            let text = piece.trimmingCharacters(in: .whitespaces)
            if let last = urls.last, !startsWithScheme(text) {
                urls[urls.count - 1] = last + "," + text
            } else {
                urls.append(text)
            }
        }
        return urls
    }

    private static func startsWithScheme(_ text: String) -> Bool {
        guard let end = text.range(of: "://")?.lowerBound else { return false }
        let scheme = text[..<end]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return text
    }
}

/// A transport entry before validation.
struct RawTransport {
    var origin: String
    var url: String
    var name: String?
    var options: [String: String] = [:]
}

extension Array where Element == ConfiguredTransport {
    fileprivate func checkingUniqueNames() throws(CourierError) -> [ConfiguredTransport] {
        var seen: [String: String] = [:]
        for transport in self {
            if let earlier = seen[transport.spec.name] {
                throw CourierError.configuration(
                    field: transport.origin,
                    "the name \"\(transport.spec.name)\" is already used by \(earlier); give each transport its own name or URL"
                )
            }
            seen[transport.spec.name] = transport.origin
        }
        return self
    }
}
