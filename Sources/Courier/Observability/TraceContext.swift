/// A W3C Trace Context (`traceparent` and `tracestate`), carried in a task-local so a publish picks up
/// the caller's trace without passing it by hand:
///
/// ```swift
/// try await TraceContext.$current.withValue(TraceContext(traceparent: incoming)) {
///     try await producer.publish(envelope)   // the envelope gets this traceparent
/// }
/// ```
/// The consumer runs each handler with the context of the message it handles, so a message published
/// from a handler continues the trace.
public struct TraceContext: Sendable, Hashable {
    public static let traceparentHeader = "traceparent"
    public static let tracestateHeader = "tracestate"

    /// The caller's trace, if any.
    @TaskLocal public static var current: TraceContext?

    /// `version-traceid-parentid-flags`, such as `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
    public let traceparent: String
    /// Vendor-specific key-value list, passed on unchanged.
    public let tracestate: String?

    /// Nil when `traceparent` is not a valid W3C value (so a malformed header is dropped, not spread).
    public init?(traceparent: String, tracestate: String? = nil) {
        guard Self.isValid(traceparent: traceparent) else { return nil }
        self.traceparent = traceparent
        self.tracestate = tracestate.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The 32 hex digits of the trace id.
    public var traceID: String { String(traceparent.split(separator: "-")[1]) }

    /// Checks the shape the W3C Trace Context specification gives version 00 (and accepts later versions'
    /// first four fields): lowercase hex, trace id and parent id not all zeros, version not `ff`.
    public static func isValid(traceparent: String) -> Bool {
        let fields = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4 else { return false }
        let (version, traceID, parentID, flags) = (fields[0], fields[1], fields[2], fields[3])
        guard version.count == 2, traceID.count == 32, parentID.count == 16, flags.count == 2 else { return false }
        guard [version, traceID, parentID, flags].allSatisfy({ $0.allSatisfy(isLowercaseHex) }) else { return false }
        guard version != "ff", traceID.contains(where: { $0 != "0" }), parentID.contains(where: { $0 != "0" }) else { return false }
        return version != "00" || fields.count == 4
    }

    private static func isLowercaseHex(_ character: Character) -> Bool {
        character.isHexDigit && !character.isUppercase
    }
}

/// Writes one value into a carrier (message headers, say), shaped like swift-distributed-tracing's `Injector`.
public protocol TraceInjector<Carrier>: Sendable {
    associatedtype Carrier
    func inject(_ value: String, forKey key: String, into carrier: inout Carrier)
}

/// Reads one value from a carrier, shaped like swift-distributed-tracing's `Extractor`.
public protocol TraceExtractor<Carrier>: Sendable {
    associatedtype Carrier
    func extract(key: String, from carrier: Carrier) -> String?
}

/// Moves trace context into and out of messages, shaped like swift-distributed-tracing's `Instrument`
/// (with ``TraceContext`` in place of `ServiceContext`), so a tracer can be bridged in a few lines.
public protocol TracingInstrument: Sendable {
    func inject<Carrier, Inject: TraceInjector>(_ context: TraceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier

    func extract<Carrier, Extract: TraceExtractor>(_ carrier: Carrier, into context: inout TraceContext?, using extractor: Extract)
    where Extract.Carrier == Carrier
}

/// The W3C Trace Context propagator: `traceparent` and `tracestate` headers.
public struct W3CTraceContextInstrument: TracingInstrument {
    public init() {}

    public func inject<Carrier, Inject: TraceInjector>(_ context: TraceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        injector.inject(context.traceparent, forKey: TraceContext.traceparentHeader, into: &carrier)
        if let tracestate = context.tracestate { injector.inject(tracestate, forKey: TraceContext.tracestateHeader, into: &carrier) }
    }

    public func extract<Carrier, Extract: TraceExtractor>(_ carrier: Carrier, into context: inout TraceContext?, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: TraceContext.traceparentHeader, from: carrier) else { return }
        if let found = TraceContext(traceparent: traceparent, tracestate: extractor.extract(key: TraceContext.tracestateHeader, from: carrier)) {
            context = found
        }
    }
}

/// Reads and writes an envelope's string headers.
public struct HeaderPropagation: TraceInjector, TraceExtractor {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

extension TracingInstrument {
    /// `envelope` with the caller's trace context (``TraceContext/current``) in its headers, unless it
    /// already carries a `traceparent` (a message being relayed keeps the trace it was published with).
    public func injectingCurrentContext(into envelope: Envelope) -> Envelope {
        guard let context = TraceContext.current, envelope.headers[TraceContext.traceparentHeader] == nil else { return envelope }
        var envelope = envelope
        inject(context, into: &envelope.headers, using: HeaderPropagation())
        return envelope
    }

    /// The trace context an envelope carries, if it carries a valid one.
    public func extractContext(from envelope: Envelope) -> TraceContext? {
        var context: TraceContext?
        extract(envelope.headers, into: &context, using: HeaderPropagation())
        return context
    }
}
