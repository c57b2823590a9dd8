import Courier
import Synchronization

/// A plugin transport in miniature: `counting://NAME` wraps the transport another factory makes for
/// `<inner scheme>://NAME` and counts the publishes the broker confirmed.
///
/// A real plugin talks to its own broker; what it shares with this sample is the shape: a `Transport`,
/// a `TransportFactory` that validates URLs and declares capabilities, registration under a scheme, and
/// a conformance test (see `Tests/CountingTransportConformanceTests.swift`).
public final class CountingTransport: Transport {
    private let inner: any Transport
    private let confirmed = Atomic<Int>(0)

    /// Wraps `inner` (unstarted) under `name`.
    public init(wrapping inner: any Transport, name: String) {
        self.inner = inner
        self.name = name
    }

    /// The name from the spec (the redacted `counting://` URL by default).
    public let name: String
    /// The wrapped transport's capabilities: this plugin adds no feature and takes none away.
    public var capabilities: TransportCapabilities { inner.capabilities }
    /// Publishes confirmed so far.
    public var confirmedPublishes: Int { confirmed.load(ordering: .relaxed) }

    public func start() async throws { try await inner.start() }

    public func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        var confirmation = try await inner.publish(envelope)
        confirmed.add(1, ordering: .relaxed)
        confirmation.transport = name
        return confirmation
    }

    public func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        try await inner.subscribe(subscription)
    }

    public func shutdown() async { await inner.shutdown() }
    public func waitUntilShutdown() async { await inner.waitUntilShutdown() }
}

/// Makes `counting://NAME` transports around the transports `inner` makes for `<innerScheme>://NAME`.
public struct CountingTransportFactory: TransportFactory {
    private let inner: any TransportFactory
    private let innerScheme: String

    /// - Parameters:
    ///   - inner: the factory that makes the wrapped transports (`MemoryTransportFactory()`, say).
    ///   - innerScheme: the scheme `inner` serves for the wrapped URLs.
    public init(wrapping inner: any TransportFactory, innerScheme: String) {
        self.inner = inner
        self.innerScheme = innerScheme
    }

    public var schemes: [String] { ["counting"] }
    public var summary: String { "counts confirmed publishes of the \(innerScheme):// transport it wraps (counting://NAME)" }

    public func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        try inner.capabilities(for: innerSpec(spec))
    }

    public func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        CountingTransport(wrapping: try inner.makeTransport(innerSpec(spec), context: context), name: spec.name)
    }

    /// The wrapped transport's spec: the same URL with the inner scheme.
    private func innerSpec(_ spec: TransportSpec) throws -> TransportSpec {
        guard spec.url.scheme == "counting", spec.url.original.hasPrefix("counting://") else {
            throw CourierError(.invalidConfiguration, "\(spec.url.redacted): a counting URL starts with counting://")
        }
        let url = try TransportURL(innerScheme + "://" + spec.url.original.dropFirst("counting://".count))
        return TransportSpec(url: url, name: spec.name, options: spec.options)
    }
}
