/// One fault the driver injected: what, when it began and when it was undone (milliseconds since 1970).
public struct FaultRecord: Sendable, Hashable, Codable {
    /// For example "rabbitmq SIGKILL + restart" or "kafka brokers down".
    public var kind: String
    public var startedAtMilliseconds: Int64
    /// When the fault was undone (the broker answered again); nil for a fault without an end.
    public var endedAtMilliseconds: Int64?
    /// Whether it took the producer's preferred transport away, so failover timings apply.
    public var takesPrimaryDown: Bool

    public init(kind: String, startedAtMilliseconds: Int64, endedAtMilliseconds: Int64? = nil, takesPrimaryDown: Bool) {
        self.kind = kind
        self.startedAtMilliseconds = startedAtMilliseconds
        self.endedAtMilliseconds = endedAtMilliseconds
        self.takesPrimaryDown = takesPrimaryDown
    }

    /// How long the fault lasted, in milliseconds.
    public var durationMilliseconds: Int64? { endedAtMilliseconds.map { $0 - startedAtMilliseconds } }
}
