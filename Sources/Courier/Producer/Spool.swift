/// A message waiting in a ``Spool``, with its place in line.
public struct SpooledMessage: Sendable {
    /// Increases with every append; the relay drains in this order.
    public let sequence: Int64
    public let envelope: Envelope

    public init(sequence: Int64, envelope: Envelope) {
        self.sequence = sequence
        self.envelope = envelope
    }
}

/// How full a spool is.
public struct SpoolDepth: Sendable, Hashable {
    public var messages: Int
    public var bytes: Int

    public init(messages: Int, bytes: Int) {
        self.messages = messages
        self.bytes = bytes
    }
}

/// Durable storage for messages no transport could take. The producer appends; its relay reads the
/// oldest, publishes them, and removes each only after a broker confirmed it. CourierSQLite provides
/// the standard implementation.
public protocol Spool: Sendable {
    /// Stores `envelope` durably (synced before returning) at the end of the line. Throws
    /// ``CourierError/Code/backpressure`` when the spool is full; never drops a message silently.
    func append(_ envelope: Envelope) async throws -> Int64
    /// Up to `limit` of the oldest messages, oldest first.
    func oldest(limit: Int) async throws -> [SpooledMessage]
    /// Removes a message the relay has had confirmed.
    func remove(sequence: Int64) async throws
    /// Removes messages the relay has had confirmed, at once. A spool may make this one cheap write; the
    /// default removes them one by one.
    func remove(sequences: [Int64]) async throws
    /// How much is waiting.
    func depth() async throws -> SpoolDepth
    /// Releases files and threads; further calls throw ``CourierError/Code/closed``.
    func close() async
}

extension Spool {
    public func remove(sequences: [Int64]) async throws {
        for sequence in sequences { try await remove(sequence: sequence) }
    }
}
