import Foundation

/// The messages `courier send` publishes, as an AsyncSequence: the arguments, or the lines of standard
/// input read on a thread of their own (a blocking read must not hold one of Swift's cooperative threads).
/// ``stop()`` ends the sequence at once, even while the reader waits for a line, so Ctrl-C lets the
/// command finish what it sent, print its summary and close the spool.
final class MessageLines: AsyncSequence, Sendable {
    typealias Element = String

    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    /// `positionals` when there are any (other than "-"), else the lines `readLine` returns until it says nil.
    init(positionals: [String], readLine: @escaping @Sendable () -> String?) {
        // Unbounded on purpose: a line read is kept until it is published, never dropped.
        (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        if positionals.isEmpty || positionals == ["-"] {
            let continuation = self.continuation
            let reader = Thread {
                while let line = readLine() {
                    if case .terminated = continuation.yield(line) { return }
                }
                continuation.finish()
            }
            reader.name = "courier-send-stdin"
            reader.start()
        } else {
            for text in positionals { continuation.yield(text) }
            continuation.finish()
        }
    }

    /// Ends the sequence after the message being published; lines not yet read stay unread.
    func stop() { continuation.finish() }

    func makeAsyncIterator() -> AsyncStream<String>.Iterator { stream.makeAsyncIterator() }
}
