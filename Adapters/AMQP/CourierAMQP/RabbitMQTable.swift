import CRabbitMQ
import Courier

/// Converts between AMQP field tables and Swift dictionaries.
enum RabbitMQTable {
    /// A C table for `entries`, allocated in `arena`.
    static func make(_ entries: [(key: String, value: AMQPFieldValue)], in arena: RabbitMQArena) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let buffer = arena.allocate(amqp_table_entry_t.self, count: entries.count)
        for (index, entry) in entries.enumerated() {
            var value = amqp_field_value_t()
            switch entry.value {
            case .string(let text):
                value.kind = UInt8(ascii: "S")
                value.value.bytes = arena.bytes(text)
            case .int(let number):
                value.kind = UInt8(ascii: "l")
                value.value.i64 = number
            case .bool(let flag):
                value.kind = UInt8(ascii: "t")
                value.value.boolean = flag ? 1 : 0
            }
            (buffer + index).initialize(to: amqp_table_entry_t(key: arena.bytes(entry.key), value: value))
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: buffer)
    }

    /// The table's scalar entries as text. Nested tables and arrays (RabbitMQ's `x-death`) are left out:
    /// Courier headers are strings, and the broker's own bookkeeping stays readable in its management tools.
    static func strings(_ table: amqp_table_t) -> [String: String] {
        var envelopeHeaders: AMQPEnvelopeHeaders?
        return strings(table, pickingOut: &envelopeHeaders)
    }

    /// The same, with the envelope fields kept in `envelopeHeaders` instead (when it is not nil).
    static func strings(_ table: amqp_table_t, pickingOut envelopeHeaders: inout AMQPEnvelopeHeaders?) -> [String: String] {
        guard table.num_entries > 0, let entries = table.entries else { return [:] }
        var result: [String: String] = [:]
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            guard let text = text(of: entry.value) else { continue }
            if envelopeHeaders?.take(name: entry.key, value: text) == true { continue }
            result[name(entry.key)] = text
        }
        return result
    }

    /// Header names most messages carry, so their keys are the constants themselves instead of a fresh
    /// heap string per message (names longer than 15 bytes do not fit in a small string).
    private static let knownNames: [String] = [
        CourierHeader.timestamp, CourierHeader.id, CourierHeader.idempotencyKey, CourierHeader.correlationID,
        CourierHeader.contentType, CourierHeader.orderingKey, CourierHeader.priority, CourierHeader.attempt,
        CourierHeader.failures, CourierHeader.firstFailedAt, "x-delivery-count", "x-death", "x-first-death-queue",
    ]

    /// The key as a string: one of `knownNames` when it is one, otherwise decoded.
    private static func name(_ key: amqp_bytes_t) -> String {
        if key.len > 15 {
            for known in knownNames where key.equals(known) { return known }
        }
        return key.string
    }

    private static func text(of field: amqp_field_value_t) -> String? {
        let value = field.value
        switch field.kind {
        case UInt8(ascii: "S"), UInt8(ascii: "x"): return value.bytes.string
        case UInt8(ascii: "t"): return value.boolean != 0 ? "true" : "false"
        case UInt8(ascii: "b"): return String(value.i8)
        case UInt8(ascii: "B"): return String(value.u8)
        case UInt8(ascii: "s"): return String(value.i16)
        case UInt8(ascii: "u"): return String(value.u16)
        case UInt8(ascii: "I"): return String(value.i32)
        case UInt8(ascii: "i"): return String(value.u32)
        case UInt8(ascii: "l"): return String(value.i64)
        case UInt8(ascii: "L"), UInt8(ascii: "T"): return String(value.u64)
        case UInt8(ascii: "f"): return String(value.f32)
        case UInt8(ascii: "d"): return String(value.f64)
        default: return nil
        }
    }

    /// Roughly how many bytes `headers` take on the wire, to refuse a header frame larger than
    /// frame_max before any byte of the publish is sent.
    static func encodedSize(_ headers: [String: String]) -> Int {
        headers.reduce(0) { $0 + 1 + $1.key.utf8.count + 1 + 4 + $1.value.utf8.count }
    }
}
