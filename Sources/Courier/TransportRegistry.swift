/// One transport as configured: its URL, an optional name, and transport-specific options.
public struct TransportSpec: Sendable, Hashable {
    /// The name used in logs, receipts and metrics; defaults to the redacted URL.
    public var name: String
    public var url: TransportURL
    /// Transport-specific options (librdkafka properties, memory broker limits, ...). They override query
    /// parameters of the same name in the URL.
    public var options: [String: String]

    public init(url: TransportURL, name: String? = nil, options: [String: String] = [:]) {
        self.url = url
        self.name = name ?? url.redacted
        self.options = options
    }

    /// The option `key` from ``options``, falling back to the URL's query.
    public func option(_ key: String) -> String? { options[key] ?? url.queryValue(key) }

    /// Every option key given, in the URL query and in ``options``.
    public var optionKeys: Set<String> { Set(url.query.map(\.key)).union(options.keys) }

    /// Throws a clear error naming the first option that is not in `known`.
    public func rejectUnknownOptions(known: Set<String>) throws(CourierError) {
        if let unknown = optionKeys.subtracting(known).sorted().first {
            let list = known.isEmpty ? "it takes none" : "known options: \(known.sorted().joined(separator: ", "))"
            throw CourierError(.invalidConfiguration, "\(url.redacted): unknown option \"\(unknown)\" for \(url.scheme):// transports; \(list)")
        }
    }

    /// Reads an integer option in `range`, or `defaultValue` when it is absent.
    public func intOption(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(CourierError) -> Int {
        guard let text = option(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw CourierError(.invalidConfiguration, "\(url.redacted): option \(key)=\"\(text)\" must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// What a factory gets besides the spec when it makes a transport.
public struct TransportContext: Sendable {
    /// The clock every timeout, backoff and delay reads.
    public var clock: any CourierClock
    /// Where the transport logs.
    public var logger: any CourierLogger

    public init(clock: any CourierClock = SystemClock(), logger: any CourierLogger = SilentLogger()) {
        self.clock = clock
        self.logger = logger
    }
}

/// Makes transports for one or more URL schemes. Registering a factory is how a plugin adds a transport.
public protocol TransportFactory: Sendable {
    /// The URL schemes this factory serves, lowercase, such as `["amqp", "amqps"]`.
    var schemes: [String] { get }
    /// One line for `courier transports`.
    var summary: String { get }
    /// Validates a spec without connecting and returns the capabilities the transport would have.
    /// Throws a ``CourierError`` naming the bad part of the URL or option and the fix.
    func capabilities(for spec: TransportSpec) throws -> TransportCapabilities
    /// Makes an unstarted transport.
    func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport
}

/// The plugin runtime: factories keyed by URL scheme.
///
/// A value type with no global state: an application builds one with the transports it links
/// (`registry.register(MemoryTransportFactory())`) and passes it wherever configuration is loaded.
public struct TransportRegistry: Sendable {
    private var factories: [String: any TransportFactory] = [:]

    public init() {}

    public init(_ factories: [any TransportFactory]) {
        for factory in factories { register(factory) }
    }

    /// Registers `factory` for each of its schemes, replacing any earlier factory for the same scheme.
    public mutating func register(_ factory: any TransportFactory) {
        for scheme in factory.schemes { factories[scheme.lowercased()] = factory }
    }

    /// Registered schemes, sorted.
    public var schemes: [String] { factories.keys.sorted() }

    /// The factory for `scheme`, if one is registered.
    public func factory(for scheme: String) -> (any TransportFactory)? { factories[scheme.lowercased()] }

    /// The factory for the spec's scheme, or an error listing the registered schemes.
    public func requireFactory(for spec: TransportSpec) throws(CourierError) -> any TransportFactory {
        guard let factory = factory(for: spec.url.scheme) else {
            let known = schemes.isEmpty ? "none are registered" : "registered schemes: \(schemes.joined(separator: ", "))"
            throw CourierError(
                .unknownScheme,
                "\(spec.url.redacted): no transport is registered for scheme \"\(spec.url.scheme)\"; \(known). Fix the scheme, or register a TransportFactory for it"
            )
        }
        return factory
    }

    /// Validates `spec` and returns its capabilities without connecting.
    public func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        try requireFactory(for: spec).capabilities(for: spec)
    }

    /// Makes an unstarted transport for `spec`.
    public func makeTransport(_ spec: TransportSpec, context: TransportContext = TransportContext()) throws -> any Transport {
        try requireFactory(for: spec).makeTransport(spec, context: context)
    }

    /// Parses `url` and makes an unstarted transport for it.
    public func makeTransport(url: String, context: TransportContext = TransportContext()) throws -> any Transport {
        try makeTransport(TransportSpec(url: TransportURL(url)), context: context)
    }
}
