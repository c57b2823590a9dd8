import Foundation

/// A message as Courier carries it: the payload plus the identity that survives retries, redeliveries,
/// failover between transports and the durable spool.
///
/// The ``id`` names this message; the ``idempotencyKey`` names the business operation and defaults to the
/// id. Neither changes once the envelope exists, whichever transport ends up carrying it.
public struct Envelope: Sendable, Hashable {
    /// The highest priority a message may have; priorities run from 0 (lowest) to 9.
    public static let maxPriority: UInt8 = 9

    /// The fields, behind one reference: copying an envelope (into a delivery, a queue, a retry) retains
    /// one object instead of every string, array and dictionary it holds. Copied on write.
    private var storage: Storage

    /// A unique message id (a lowercase UUID unless the caller sets one).
    public var id: String {
        get { storage.id }
        _modify { yield &uniqueStorage().id }
    }
    /// The key the consumer side deduplicates on. Defaults to ``id``; set a business key (an order
    /// number, say) to make two different messages count as the same operation.
    public var idempotencyKey: String {
        get { storage.idempotencyKey }
        _modify { yield &uniqueStorage().idempotencyKey }
    }
    /// The topic (Kafka topic, RabbitMQ routing key, memory topic) the message is published to.
    public var topic: String {
        get { storage.topic }
        _modify { yield &uniqueStorage().topic }
    }
    /// Messages with the same ordering key are consumed in publish order where the transport keeps order.
    public var orderingKey: String? {
        get { storage.orderingKey }
        _modify { yield &uniqueStorage().orderingKey }
    }
    /// Optional priority from 0 to 9; higher is delivered first where the transport supports priorities.
    public var priority: UInt8? {
        get { storage.priority }
        _modify { yield &uniqueStorage().priority }
    }
    /// Application headers. W3C `traceparent` and `tracestate` pass through untouched. Names starting
    /// with `courier-` are reserved (see ``CourierHeader``).
    public var headers: [String: String] {
        get { storage.headers }
        _modify { yield &uniqueStorage().headers }
    }
    /// The message body.
    public var payload: [UInt8] {
        get { storage.payload }
        _modify { yield &uniqueStorage().payload }
    }
    /// A MIME type such as `application/json`.
    public var contentType: String? {
        get { storage.contentType }
        _modify { yield &uniqueStorage().contentType }
    }
    /// When the message was created.
    public var timestamp: Date {
        get { storage.timestamp }
        _modify { yield &uniqueStorage().timestamp }
    }
    /// Links related messages (a request and its reply, say).
    public var correlationID: String? {
        get { storage.correlationID }
        _modify { yield &uniqueStorage().correlationID }
    }

    public init(
        topic: String,
        payload: [UInt8],
        id: String = Envelope.makeID(),
        idempotencyKey: String? = nil,
        orderingKey: String? = nil,
        priority: UInt8? = nil,
        headers: [String: String] = [:],
        contentType: String? = nil,
        timestamp: Date = Date(),
        correlationID: String? = nil
    ) {
        storage = Storage(
            id: id, idempotencyKey: idempotencyKey ?? id, topic: topic, orderingKey: orderingKey, priority: priority,
            headers: headers, payload: payload, contentType: contentType, timestamp: timestamp, correlationID: correlationID
        )
    }

    /// The storage, copied first when another envelope shares it.
    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public static func == (lhs: Envelope, rhs: Envelope) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.hasSameFields(as: rhs.storage)
    }

    public func hash(into hasher: inout Hasher) { storage.hashFields(into: &hasher) }

    /// Creates an envelope whose payload is the UTF-8 bytes of `text`.
    public init(topic: String, text: String, id: String = Envelope.makeID(), headers: [String: String] = [:]) {
        self.init(topic: topic, payload: Array(text.utf8), id: id, headers: headers, contentType: "text/plain")
    }

    /// The payload decoded as UTF-8, or `nil` when it is not valid UTF-8.
    public var text: String? { String(validating: payload, as: UTF8.self) }

    /// A fresh message id: a random (version 4) UUID in lowercase.
    ///
    /// The random bytes come from the system generator through a shared pool (one system call per 256
    /// ids) rather than `UUID()`, which on Linux opens /dev/urandom on every call: with one id per message
    /// that was a file open per publish.
    public static func makeID() -> String {
        var random: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { bytes in
            RandomBytePool.shared.fill(bytes)
            bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
            bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        }
        return withUnsafeBytes(of: random) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                guard let out = text.baseAddress.map(UnsafeMutableRawPointer.init) else { return 0 }
                // Two digits per byte from a table, stored as one 16-bit write at the byte's place in the
                // text: about 180 instructions an id, against 540 for the digit-by-digit loop (callgrind).
                func put(_ index: Int, at offset: Int) {
                    out.storeBytes(of: hexPairs[Int(bytes[index])].littleEndian, toByteOffset: offset, as: UInt16.self)
                }
                put(0, at: 0); put(1, at: 2); put(2, at: 4); put(3, at: 6)
                put(4, at: 9); put(5, at: 11)
                put(6, at: 14); put(7, at: 16)
                put(8, at: 19); put(9, at: 21)
                put(10, at: 24); put(11, at: 26); put(12, at: 28); put(13, at: 30); put(14, at: 32); put(15, at: 34)
                out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
                out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 13, as: UInt8.self)
                out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 18, as: UInt8.self)
                out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 23, as: UInt8.self)
                return 36
            }
        }
    }

    /// The two lowercase hexadecimal digits of every byte: the first in the low byte, so stored
    /// little-endian they read in text order.
    private static let hexPairs: [UInt16] = (0...255).map { byte in
        UInt16(hexDigit(UInt8(byte >> 4))) | UInt16(hexDigit(UInt8(byte & 0x0F))) << 8
    }

    /// Seconds since 1970 an envelope's timestamp may have: what milliseconds in 64 bits, JSON numbers and
    /// JavaScript dates all hold (±100,000,000 days).
    static let representableTimestamps: ClosedRange<Double> = -8.64e12...8.64e12

    /// The timestamp in whole milliseconds since 1970, clamped to ``representableTimestamps`` (a
    /// timestamp outside fails ``validate(maxPayloadBytes:)``; this never traps on one).
    public var timestampMilliseconds: Int64 {
        let seconds = timestamp.timeIntervalSince1970
        guard seconds.isFinite else { return 0 }
        let clamped = min(max(seconds, Envelope.representableTimestamps.lowerBound), Envelope.representableTimestamps.upperBound)
        return Int64((clamped * 1000).rounded())
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Checks what every transport needs; throws ``CourierError/Code/invalidMessage`` or
    /// ``CourierError/Code/messageTooLarge`` with the fix.
    public func validate(maxPayloadBytes: Int? = nil) throws(CourierError) {
        if topic.isEmpty {
            throw CourierError(.invalidMessage, "message \(id) has an empty topic; set Envelope.topic")
        }
        if id.isEmpty {
            throw CourierError(.invalidMessage, "message on topic \(topic) has an empty id; leave id to its default or set a unique one")
        }
        if idempotencyKey.isEmpty {
            throw CourierError(.invalidMessage, "message \(id) has an empty idempotency key; leave it to default to the id or set a business key")
        }
        if !Envelope.representableTimestamps.contains(timestamp.timeIntervalSince1970) {
            throw CourierError(
                .invalidMessage,
                "message \(id) has timestamp \(timestamp.timeIntervalSince1970) s since 1970, outside what transports can carry (±8.64e12 s, about ±273,000 years); leave timestamp to its default or set a real date"
            )
        }
        if let priority, priority > Envelope.maxPriority {
            throw CourierError(.invalidMessage, "message \(id) has priority \(priority); priorities run from 0 to \(Envelope.maxPriority)")
        }
        if let maxPayloadBytes, payload.count > maxPayloadBytes {
            throw CourierError(
                .messageTooLarge,
                "message \(id) has \(payload.count) payload bytes; this transport accepts at most \(maxPayloadBytes). Split the payload or raise the transport's limit"
            )
        }
    }
}

extension Envelope {
    /// An envelope's fields. Only mutated through ``Envelope/uniqueStorage()``, that is when no other
    /// envelope holds it, which is what makes sharing it between threads safe.
    ///
    /// The fields skip Swift's run-time exclusivity check: every read of a class's `var` otherwise
    /// registers an access in a thread-local set, which was 5 % of a Kafka producer's CPU. Overlapping
    /// accesses cannot happen here: the only writes go through `Envelope`'s own mutating accessors, which
    /// the compiler checks statically.
    fileprivate final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var id: String
        @exclusivity(unchecked) var idempotencyKey: String
        @exclusivity(unchecked) var topic: String
        @exclusivity(unchecked) var orderingKey: String?
        @exclusivity(unchecked) var priority: UInt8?
        @exclusivity(unchecked) var headers: [String: String]
        @exclusivity(unchecked) var payload: [UInt8]
        @exclusivity(unchecked) var contentType: String?
        @exclusivity(unchecked) var timestamp: Date
        @exclusivity(unchecked) var correlationID: String?

        init(
            id: String, idempotencyKey: String, topic: String, orderingKey: String?, priority: UInt8?,
            headers: [String: String], payload: [UInt8], contentType: String?, timestamp: Date, correlationID: String?
        ) {
            self.id = id
            self.idempotencyKey = idempotencyKey
            self.topic = topic
            self.orderingKey = orderingKey
            self.priority = priority
            self.headers = headers
            self.payload = payload
            self.contentType = contentType
            self.timestamp = timestamp
            self.correlationID = correlationID
        }

        func copy() -> Storage {
            Storage(
                id: id, idempotencyKey: idempotencyKey, topic: topic, orderingKey: orderingKey, priority: priority,
                headers: headers, payload: payload, contentType: contentType, timestamp: timestamp, correlationID: correlationID
            )
        }

        func hasSameFields(as other: Storage) -> Bool {
            id == other.id && idempotencyKey == other.idempotencyKey && topic == other.topic
                && orderingKey == other.orderingKey && priority == other.priority && headers == other.headers
                && payload == other.payload && contentType == other.contentType && timestamp == other.timestamp
                && correlationID == other.correlationID
        }

        func hashFields(into hasher: inout Hasher) {
            hasher.combine(id)
            hasher.combine(idempotencyKey)
            hasher.combine(topic)
            hasher.combine(orderingKey)
            hasher.combine(priority)
            hasher.combine(headers)
            hasher.combine(payload)
            hasher.combine(contentType)
            hasher.combine(timestamp)
            hasher.combine(correlationID)
        }
    }
}
