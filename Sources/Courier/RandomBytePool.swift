import Foundation
import Synchronization

/// Cryptographically secure random bytes, fetched from the system 4 KiB at a time.
///
/// Message ids need 16 random bytes each; asking the system for them one id at a time cost two
/// `getrandom` system calls per message, a quarter of a busy producer's time. `getentropy` (glibc 2.25+,
/// macOS) hands out up to 256 bytes per call, so a refill serves 256 ids with 16 calls. The bytes still
/// come from the system generator, so ids stay unpredictable.
final class RandomBytePool: Sendable {
    static let shared = RandomBytePool()

    private struct State {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var position = 4096
    }

    private let state = Mutex(State())

    /// Fills `buffer` with random bytes (at most 4096 at a time).
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        state.withLock { state in
            let count = min(buffer.count, state.bytes.count)
            if state.position + count > state.bytes.count {
                state.bytes.withUnsafeMutableBytes { Self.systemRandom($0) }
                state.position = 0
            }
            state.bytes.withUnsafeBytes { bytes in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[state.position..<state.position + count]))
            }
            state.position += count
        }
    }

    private static func systemRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<min(offset + 256, buffer.count)])
            if getentropy(chunk.baseAddress, chunk.count) != 0 {
                // Not available (a very old kernel): the standard library's generator, 8 bytes a call.
                var generator = SystemRandomNumberGenerator()
                for index in chunk.indices { chunk[index] = generator.next() }
            }
            offset += chunk.count
        }
    }
}
