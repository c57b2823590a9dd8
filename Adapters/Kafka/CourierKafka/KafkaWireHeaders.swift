import Courier

/// Writes an envelope as a Kafka record carries it. The timestamp travels as the record timestamp and
/// the ordering key as the record key, so neither is a header (librdkafka allocates for every header,
/// on produce and on consume); the other `courier-*` fields that are set are headers, winning over an
/// application header of the same name.
enum KafkaWireHeaders {
    /// How many headers ``write(_:to:)`` writes, at most (a sizing hint): the application's and six fields.
    static func count(of envelope: Envelope) -> Int { envelope.headers.count + 6 }

    /// The envelope's timestamp as a record timestamp (ms since 1970), or `nil` when a record cannot
    /// carry it: librdkafka reads 0 as "now", and Kafka has no times before 1970 (-1 means "none").
    static func recordTimestamp(of envelope: Envelope) -> Int64? {
        let milliseconds = envelope.timestampMilliseconds
        return milliseconds >= 1 ? milliseconds : nil
    }

    /// Calls `add` once per header: the Courier fields first, then the application's headers in name
    /// order (so the bytes on the wire do not depend on dictionary order).
    static func write(_ envelope: Envelope, to add: (String, String) -> Void) {
        add(CourierHeader.id, envelope.id)
        let hasKey = envelope.idempotencyKey != envelope.id
        if hasKey { add(CourierHeader.idempotencyKey, envelope.idempotencyKey) }
        if let correlationID = envelope.correlationID { add(CourierHeader.correlationID, correlationID) }
        if let contentType = envelope.contentType { add(CourierHeader.contentType, contentType) }
        if recordTimestamp(of: envelope) == nil { add(CourierHeader.timestamp, String(envelope.timestampMilliseconds)) }
        if let priority = envelope.priority { add(CourierHeader.priority, String(priority)) }
        guard !envelope.headers.isEmpty else { return }
        for (name, value) in envelope.headers.sorted(by: { $0.key < $1.key }) {
            // A Courier field that is set replaces an application header of the same name; the
            // timestamp and ordering key always do (the record's own fields carry them).
            if CourierHeader.isReserved(name) {
                switch name {
                case CourierHeader.id, CourierHeader.timestamp, CourierHeader.orderingKey: continue
                case CourierHeader.idempotencyKey where hasKey: continue
                case CourierHeader.correlationID where envelope.correlationID != nil: continue
                case CourierHeader.contentType where envelope.contentType != nil: continue
                case CourierHeader.priority where envelope.priority != nil: continue
                default: break
                }
            }
            add(name, value)
        }
    }
}
