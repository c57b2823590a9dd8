import Foundation

/// What `courier kafka-mock` reacts to: a line of input, or a request to stop.
enum KafkaMockInput: Sendable {
    case line(String)
    case terminate

    /// Lines from standard input (read on a thread of their own, since reading blocks), ending at end of
    /// input, plus `.terminate` on SIGTERM or SIGINT so the cluster is shut down cleanly.
    static func standardInput() -> AsyncStream<KafkaMockInput> {
        AsyncStream { continuation in
            let reader = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(.line(line)) }
                continuation.finish()
            }
            reader.name = "courier-kafka-mock-stdin"
            reader.start()
            let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    continuation.yield(.terminate)
                    continuation.finish()
                }
                source.resume()
                return source
            }
            let box = SignalSources(sources)
            continuation.onTermination = { _ in box.cancel() }
        }
    }
}

/// Keeps the signal sources alive until the input ends, then cancels them. Only `cancel()` touches
/// them after setup, and Dispatch sources may be cancelled from any thread.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
