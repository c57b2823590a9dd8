import Courier
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
            let signals = TerminationSignals {
                continuation.yield(.terminate)
                continuation.finish()
            }
            continuation.onTermination = { _ in signals.cancel() }
        }
    }
}
