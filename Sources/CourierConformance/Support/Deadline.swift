import Synchronization

/// A value that several racing tasks try to set; the first one wins and wakes the waiter.
final class FirstValue<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case set(Value)
    }

    private let state = Mutex(State.empty)

    /// Sets the value unless one is set already.
    func offer(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            switch state {
            case .empty:
                state = .set(value)
                return nil
            case .waiting(let continuation):
                state = .set(value)
                return continuation
            case .set:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    /// The first value offered (waits for it).
    func value() async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            let ready = state.withLock { state -> Value? in
                switch state {
                case .set(let value): return value
                case .empty, .waiting:
                    state = .waiting(continuation)
                    return nil
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Runs `operation` in a task of its own and waits at most `limit` for it. Returns whether it finished
/// in time; when it did not, the task is cancelled and left to end by itself (a transport call that
/// ignores cancellation must not hang the suite).
func finishes(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
    let first = FirstValue<Bool>()
    let work = Task {
        await operation()
        first.offer(true)
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        first.offer(false)
    }
    let finished = await withTaskCancellationHandler {
        await first.value()
    } onCancel: {
        first.offer(false)
    }
    timer.cancel()
    if !finished { work.cancel() }
    return finished
}
