import CRabbitMQ
import Glibc

/// Owns C copies of Swift strings and bytes for the duration of one librabbitmq call, so no pointer
/// into a Swift temporary ever reaches C. A bump allocator: one block serves a whole call, and a session
/// reuses one arena for every publish (``reset()``), so a publish costs no allocation for its strings.
final class RabbitMQArena {
    private static let blockSize = 4096
    /// Every block, the current one last.
    private var blocks: [UnsafeMutableRawPointer] = []
    private var offset = 0
    private var capacity = 0

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Forgets everything allocated, keeping the first block for the next call.
    func reset() {
        if blocks.count > 1 {
            for block in blocks.dropFirst() { block.deallocate() }
            blocks.removeSubrange(1...)
            capacity = Self.blockSize
        }
        offset = 0
    }

    private func raw(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let aligned = (offset + alignment - 1) & ~(alignment - 1)
        if let current = blocks.last, aligned + byteCount <= capacity {
            offset = aligned + byteCount
            return current + aligned
        }
        // A fresh block; an oversized request gets a block of its own size. Blocks are 16-byte aligned.
        let size = max(Self.blockSize, byteCount)
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        blocks.append(block)
        capacity = size
        offset = byteCount
        return block
    }

    /// A C copy of `text`'s UTF-8 bytes (not NUL-terminated, as AMQP short and long strings are).
    func bytes(_ text: String) -> amqp_bytes_t {
        var text = text
        return text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A C copy of `data`.
    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        data.withUnsafeBytes { bytes($0) }
    }

    private func bytes(_ source: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard let base = source.baseAddress, source.count > 0 else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = raw(byteCount: source.count, alignment: 1)
        pointer.copyMemory(from: base, byteCount: source.count)
        return amqp_bytes_t(len: source.count, bytes: pointer)
    }

    /// Uninitialized C memory for `count` values of `type`, released with the arena.
    func allocate<Value>(_ type: Value.Type, count: Int) -> UnsafeMutablePointer<Value> {
        raw(byteCount: MemoryLayout<Value>.stride * max(count, 1), alignment: MemoryLayout<Value>.alignment)
            .bindMemory(to: Value.self, capacity: max(count, 1))
    }
}

extension amqp_bytes_t {
    /// The bytes as a Swift array (empty for a NULL pointer).
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    /// Whether the bytes are exactly `text`'s UTF-8.
    func equals(_ text: String) -> Bool {
        guard text.utf8.count == len else { return false }
        guard len > 0, let bytes else { return true }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: len)
        return text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard let base = utf8.baseAddress else { return false }
            return memcmp(base, bytes, len) == 0
        } ?? text.utf8.elementsEqual(buffer)
    }

    /// The bytes decoded as UTF-8, invalid sequences repaired. Decoded in place: no intermediate array.
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }
}

/// The last string decoded from a run of identical byte strings (a consumer's exchange and routing key,
/// the same in every delivery), handed out again instead of allocating a fresh copy each time.
struct RabbitMQStringCache {
    private var last = ""

    mutating func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 15 else { return bytes.string }
        if !bytes.equals(last) { last = bytes.string }
        return last
    }
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
