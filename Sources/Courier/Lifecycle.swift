import Synchronization

/// Runs an async action at most once, however many callers race to run it; later callers wait for it.
public final class OnceAction: Sendable {
    /// Taken out by the first run, so what it captured is released once it has run.
    private let action: Mutex<(@Sendable () async -> Void)?>
    private let done = Latch()

    public init(_ action: @escaping @Sendable () async -> Void) { self.action = Mutex(action) }

    public func run() async {
        guard let action = action.withLock({ $0.take() }) else {
            await done.wait()
            return
        }
        await action()
        done.open()
    }
}

/// A one-way gate: ``wait()`` suspends until ``open()`` is called, and returns at once afterwards.
/// Transports use it to implement ``Transport/waitUntilShutdown()``.
public final class Latch: Sendable {
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    /// Written under `waiters`' lock, read without it: consumers check it once per message on every core.
    private let opened = Atomic<Bool>(false)

    public init() {}

    public var isOpen: Bool { opened.load(ordering: .acquiring) }

    public func open() {
        let waiting = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            opened.store(true, ordering: .releasing)
            defer { waiters = [] }
            return waiters
        }
        waiting.forEach { $0.resume() }
    }

    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = waiters.withLock { waiters -> Bool in
                let isOpen = opened.load(ordering: .acquiring)
                if !isOpen { waiters.append(continuation) }
                return isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}
