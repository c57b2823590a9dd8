import Foundation
import Synchronization

/// Cryptographically secure random bytes, fetched from the system a page at a time.
///
/// Message ids need 16 random bytes each; asking the system for them one id at a time cost two
/// `getrandom` system calls per message, a quarter of a busy producer's time. One call per 4 KiB serves
/// 256 ids. The bytes still come from the system generator, so ids stay unpredictable.
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
        guard let base = buffer.baseAddress else { return }
        arc4random_buf(base, buffer.count)
    }
}
