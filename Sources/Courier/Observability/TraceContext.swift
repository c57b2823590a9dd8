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
    /// first four fields): lowercase hex, trace id and parent id not all zeros, version not `ff`. Works on
    /// UTF-8 bytes: it runs for every consumed message that carries a trace.
    public static func isValid(traceparent: String) -> Bool {
        var text = traceparent
        return text.withUTF8 { bytes in
            // version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 bytes; later versions may append "-...".
            guard bytes.count >= 55, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash else { return false }
            let version = (bytes[0], bytes[1])
            guard version != (lowerF, lowerF) else { return false }
            guard bytes.count == 55 || (version != (zero, zero) && bytes[55] == dash) else { return false }
            var traceIsZero = true, parentIsZero = true
            for index in 0..<55 where index != 2 && index != 35 && index != 52 {
                let byte = bytes[index]
                guard (zero...nine).contains(byte) || (lowerA...lowerF).contains(byte) else { return false }
                if byte != zero {
                    if (3..<35).contains(index) { traceIsZero = false } else if (36..<52).contains(index) { parentIsZero = false }
                }
            }
            return !traceIsZero && !parentIsZero
        }
    }
}

private let dash = UInt8(ascii: "-")
private let zero = UInt8(ascii: "0")
private let nine = UInt8(ascii: "9")
private let lowerA = UInt8(ascii: "a")
private let lowerF = UInt8(ascii: "f")

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
