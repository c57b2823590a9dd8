import Courier
import Synchronization

/// The demo's handler: records each message's effect (to prove exactly-once effects), fails some
/// messages transiently (they succeed on a later attempt) and one always (a poison message).
final class DemoHandler: Sendable {
    struct Effects: Sendable {
        /// Successful runs per idempotency key; more than one would be a duplicate effect.
        var runs: [String: Int] = [:]
        var transientFailures = 0
    }

    let poisonID: String
    private let flakyEvery: Int
    private let effects = Mutex(Effects())

    init(poisonID: String, flakyEvery: Int = 17) {
        self.poisonID = poisonID
        self.flakyEvery = flakyEvery
    }

    var recorded: Effects { effects.withLock { $0 } }

    struct DownstreamTimeout: Error, CustomStringConvertible {
        var description: String { "the downstream service timed out (simulated)" }
    }

    struct PoisonPayload: UnrecoverableError, CustomStringConvertible {
        var description: String { "the order cannot be parsed (simulated poison message)" }
    }

    func handle(_ message: IncomingMessage) async throws {
        let id = message.envelope.id
        if id == poisonID { throw PoisonPayload() }
        let index = Int(id.split(separator: "-").last ?? "") ?? 0
        // Every n-th message fails on its first two attempts: once retried at once, once redelivered later.
        if index % flakyEvery == 3, message.attempt + message.redeliveries < 3 {
            effects.withLock { $0.transientFailures += 1 }
            throw DownstreamTimeout()
        }
        effects.withLock { $0.runs[message.envelope.idempotencyKey, default: 0] += 1 }
    }
}
