import Courier
import Glibc
import Synchronization

/// Work the async API hands to a connection's thread.
enum AMQPCommand: Sendable {
    case connect(CheckedContinuation<Void, any Error>)
    case publish(AMQPOutgoingMessage, topic: String, CheckedContinuation<Void, any Error>)
    /// Publishes to each message's exchange, pipelined under the confirm window; resumed once, when every
    /// one is settled, with the outcomes in order.
    case publishBatch([AMQPOutgoingMessage], CheckedContinuation<[Result<Void, CourierError>], Never>)
    case subscribe(AMQPConsumerRequest, CheckedContinuation<Void, any Error>)
    case settle(consumerID: Int, tag: UInt64, SettleAction, CheckedContinuation<Void, any Error>)
    /// An ack, requeue or reject already checked by the settler: nobody waits for it.
    case settleLater(consumerID: Int, tag: UInt64, SettleAction)
    /// The subscription's settler has acks queued (posted only when its queue was empty).
    case acksQueued(consumerID: Int)
    case cancel(consumerID: Int, CheckedContinuation<Void, Never>)
    case delete(AMQPTopologyObject, CheckedContinuation<Void, any Error>)
    case shutdown(CheckedContinuation<Void, Never>)
    /// The transport was released without a shutdown: close anyway so the thread ends.
    case release
}

/// A subscription as the connection thread needs it.
struct AMQPConsumerRequest: Sendable {
    var id: Int
    var subscription: Subscription
    var continuation: DeliveryStream.Continuation
    var settler: AMQPDeliverySettler
}

/// The queue of commands for one connection thread, with a pipe that wakes the thread from poll().
final class AMQPMailbox: Sendable {
    private let commands = Mutex<(queue: [AMQPCommand], isClosed: Bool)>(([], false))
    private let wakePending = Atomic<Bool>(false)
    /// Set by `wait` when the pipe was readable: only then does `takeAll` drain it (a read that finds
    /// nothing is a syscall per turn of the thread's loop). Used by the connection thread only.
    private let wakeReadable = Atomic<Bool>(false)
    /// Set while the thread waits without a short timeout: a settler's first queued ack must wake it then.
    let isParked = Atomic<Bool>(false)
    private let readEnd: Int32
    private let writeEnd: Int32

    init() throws(CourierError) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0,
              fcntl(descriptors[0], F_SETFL, O_NONBLOCK) == 0, fcntl(descriptors[1], F_SETFL, O_NONBLOCK) == 0 else {
            throw CourierError(.unavailable, "cannot create the wake-up pipe for the AMQP connection thread: errno \(errno)", isRetriable: true)
        }
        readEnd = descriptors[0]
        writeEnd = descriptors[1]
    }

    deinit {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }

    /// The descriptor the thread polls next to the socket.
    var wakeDescriptor: Int32 { readEnd }

    func post(_ command: AMQPCommand) {
        let accepted = commands.withLock { state -> Bool in
            if !state.isClosed { state.queue.append(command) }
            return !state.isClosed
        }
        guard accepted else { return Self.refuse(command) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
    }

    /// Everything posted so far, oldest first.
    func takeAll() -> [AMQPCommand] {
        wakePending.store(false, ordering: .sequentiallyConsistent)
        // A byte written after the last poll is left for the next one, which then returns at once and
        // has it drained here on the following turn: no wake-up is lost, at worst one turn is spare.
        if wakeReadable.exchange(false, ordering: .relaxed) {
            withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { scratch in
                while read(readEnd, scratch.baseAddress, scratch.count) > 0 {}
            }
        }
        return commands.withLock { state in
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
    }

    /// Called by the thread as it exits: later posts are refused at once, and so is anything left.
    func close() {
        let leftover = commands.withLock { state -> [AMQPCommand] in
            state.isClosed = true
            defer { state.queue.removeAll() }
            return state.queue
        }
        leftover.forEach(Self.refuse)
    }

    /// Answers a command that no thread will run.
    private static func refuse(_ command: AMQPCommand) {
        let closed = CourierError.closed("the AMQP transport was shut down")
        switch command {
        case .connect(let continuation), .publish(_, _, let continuation), .subscribe(_, let continuation), .delete(_, let continuation):
            continuation.resume(throwing: closed)
        case .settle(_, _, _, let continuation):
            continuation.resume(throwing: CourierError(.invalidSettlement, "the AMQP transport was shut down; the delivery goes back to the broker"))
        case .publishBatch(let messages, let continuation):
            continuation.resume(returning: Array(repeating: .failure(closed), count: messages.count))
        case .cancel(_, let continuation), .shutdown(let continuation):
            continuation.resume()
        case .release, .settleLater, .acksQueued:
            break
        }
    }

    /// Waits until the mailbox or `socket` (when not -1) is readable, or `timeout` passes.
    func wait(socket: Int32, timeout: Duration) {
        var descriptors = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        if socket >= 0 { descriptors.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptors, nfds_t(descriptors.count), max(milliseconds, 0))
        if descriptors[0].revents != 0 { wakeReadable.store(true, ordering: .relaxed) }
    }
}
