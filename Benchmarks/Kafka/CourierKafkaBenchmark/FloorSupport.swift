import CRDKafka
import Courier

// What the two floors (EnvelopeFloor.swift, ProduceFloor.swift) share: they use librdkafka directly, not
// CourierKafka, so they cannot use its configuration and client wrappers.

/// `courier-id` as a C string of its own: a Swift string passed for a C string is copied into a new
/// array on every call (about 580 instructions per record here, counted with callgrind).
nonisolated(unsafe) let idHeaderName: UnsafePointer<CChar> = {
    let bytes = Array(CourierHeader.id.utf8CString)
    let name = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    name.initialize(from: bytes, count: bytes.count)
    return UnsafePointer(name)
}()

/// A librdkafka configuration with `properties`; throws librdkafka's own message for a bad one.
func floorConfiguration(_ properties: [String: String]) throws -> OpaquePointer {
    guard let configuration = rd_kafka_conf_new() else { throw FloorError("rd_kafka_conf_new failed") }
    var error = [CChar](repeating: 0, count: 512)
    for (name, value) in properties {
        guard rd_kafka_conf_set(configuration, name, value, &error, error.count) == RD_KAFKA_CONF_OK else {
            rd_kafka_conf_destroy(configuration)
            throw FloorError(text(of: error))
        }
    }
    return configuration
}

/// A librdkafka client of `type`, which takes `configuration` over; on failure the configuration is destroyed.
func floorClient(_ type: rd_kafka_type_t, _ configuration: OpaquePointer) throws -> OpaquePointer {
    var error = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, configuration, &error, error.count) else {
        rd_kafka_conf_destroy(configuration)
        throw FloorError(text(of: error))
    }
    return handle
}

/// A NUL-terminated C string from a librdkafka error buffer.
func text(of buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

struct FloorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
