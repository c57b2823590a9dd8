import CRabbitMQ
import Glibc

/// Owns C copies of Swift strings and bytes for the duration of one librabbitmq call, so no pointer
/// into a Swift temporary ever reaches C.
final class RabbitMQArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// A C copy of `text`'s UTF-8 bytes (not NUL-terminated, as AMQP short and long strings are).
    func bytes(_ text: String) -> amqp_bytes_t {
        bytes(Array(text.utf8))
    }

    /// A C copy of `data`.
    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        guard !data.isEmpty else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: data.count, alignment: 1)
        data.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: data.count) }
        }
        allocations.append(pointer)
        return amqp_bytes_t(len: data.count, bytes: pointer)
    }

    /// Uninitialized C memory for `count` values of `type`, released with the arena.
    func allocate<Value>(_ type: Value.Type, count: Int) -> UnsafeMutablePointer<Value> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<Value>.stride * max(count, 1),
            alignment: MemoryLayout<Value>.alignment
        )
        allocations.append(raw)
        return raw.bindMemory(to: Value.self, capacity: max(count, 1))
    }
}

extension amqp_bytes_t {
    /// The bytes as a Swift array (empty for a NULL pointer).
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    /// The bytes decoded as UTF-8, invalid sequences repaired.
    var string: String { String(decoding: array, as: UTF8.self) }
}

/// librabbitmq's description of a status code, such as "a socket error occurred".
func rabbitMQStatusText(_ status: Int32) -> String {
    guard let text = amqp_error_string2(status) else { return "librabbitmq status \(status)" }
    return String(cString: text)
}

/// A `timeval` for librabbitmq timeouts.
func rabbitMQTimeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return timeval(tv_sec: Int(max(seconds, 0)), tv_usec: Int(max(attoseconds, 0) / 1_000_000_000_000))
}
