import Courier

/// Writes an envelope's headers as Kafka record headers: exactly what `Envelope.wireHeaders` holds (the
/// application's headers plus the `courier-*` fields that are set, the fields winning over an
/// application header of the same name), without building that dictionary for every message.
enum KafkaWireHeaders {
    /// How many headers ``write(_:to:)`` writes, at most (a sizing hint).
    static func count(of envelope: Envelope) -> Int { envelope.headers.count + 7 }

    /// Calls `add` once per header: the Courier fields first, then the application's headers in name
    /// order (so the bytes on the wire do not depend on dictionary order).
    static func write(_ envelope: Envelope, to add: (String, String) -> Void) {
        add(CourierHeader.id, envelope.id)
        let hasKey = envelope.idempotencyKey != envelope.id
        if hasKey { add(CourierHeader.idempotencyKey, envelope.idempotencyKey) }
        if let correlationID = envelope.correlationID { add(CourierHeader.correlationID, correlationID) }
        if let contentType = envelope.contentType { add(CourierHeader.contentType, contentType) }
        add(CourierHeader.timestamp, String(Int64((envelope.timestamp.timeIntervalSince1970 * 1000).rounded())))
        if let orderingKey = envelope.orderingKey { add(CourierHeader.orderingKey, orderingKey) }
        if let priority = envelope.priority { add(CourierHeader.priority, String(priority)) }
        guard !envelope.headers.isEmpty else { return }
        for (name, value) in envelope.headers.sorted(by: { $0.key < $1.key }) {
            // A Courier field that is set replaces an application header of the same name.
            if CourierHeader.isReserved(name) {
                switch name {
                case CourierHeader.id, CourierHeader.timestamp: continue
                case CourierHeader.idempotencyKey where hasKey: continue
                case CourierHeader.correlationID where envelope.correlationID != nil: continue
                case CourierHeader.contentType where envelope.contentType != nil: continue
                case CourierHeader.orderingKey where envelope.orderingKey != nil: continue
                case CourierHeader.priority where envelope.priority != nil: continue
                default: break
                }
            }
            add(name, value)
        }
    }
}
