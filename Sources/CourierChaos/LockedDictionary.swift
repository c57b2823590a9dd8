import Synchronization

/// A dictionary behind a lock, for state shared by the tasks of one process.
final class LockedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let storage = Mutex<[Key: Value]>([:])

    func set(_ key: Key, _ value: Value) { storage.withLock { $0[key] = value } }
    func remove(_ key: Key) -> Value? { storage.withLock { $0.removeValue(forKey: key) } }
}
