import Courier
import Foundation

extension ScenarioRun {
    /// A message with a readable run-unique id (`<token>-s01-m7`), the index in a header and as text.
    func message(_ index: Int, topic: String, label: String = "m", key: String? = nil) -> Envelope {
        let id = "\(idPrefix)\(label)\(index)"
        return Envelope(
            topic: topic,
            payload: Array("message \(index) of \(label)".utf8),
            id: id,
            orderingKey: key,
            headers: ["conformance-index": String(index)]
        )
    }

    /// Publishes `envelope` and books it in `ledger`: attempted, then confirmed. Retriable errors are
    /// retried (same id) with backoff within the publish retry window; anything else fails the scenario
    /// unless `expectingErrors`. Returns whether the transport confirmed.
    @discardableResult
    func publish(_ envelope: Envelope, via transport: any Transport, into ledger: Ledger, expectingErrors: Bool = false) async -> Bool {
        ledger.attempted(envelope.id)
        let deadline = ContinuousClock.now + options.publishRetryWindow
        var delay = Duration.milliseconds(10)
        while !Task.isCancelled {
            do {
                let confirmation = try await transport.publish(envelope)
                if confirmation.messageID != envelope.id {
                    fail("the confirmation for \(envelope.id) names message \(confirmation.messageID)")
                }
                if confirmation.topic != envelope.topic {
                    fail("the confirmation for \(envelope.id) names topic \(confirmation.topic), not \(envelope.topic)")
                }
                ledger.confirmed(envelope.id)
                return true
            } catch let error as CourierError {
                if error.mayDuplicate { ledger.outcomeUnknown(envelope.id) }
                if expectingErrors { return false }
                guard error.isRetriable, ContinuousClock.now < deadline else {
                    fail("publishing \(envelope.id) failed: \(error)")
                    return false
                }
                countPublishRetry()
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(500))
            } catch is CancellationError {
                return false
            } catch {
                fail("publishing \(envelope.id) threw \(type(of: error)), not a CourierError: \(error)")
                return false
            }
        }
        return false
    }

    /// Publishes `envelopes` from `workers` concurrent tasks (worker `w` takes every `workers`-th
    /// message, through `transports[w % transports.count]`).
    func publishConcurrently(_ envelopes: [Envelope], via transports: [any Transport], into ledger: Ledger, workers: Int) async {
        guard !transports.isEmpty else { return }
        activity.begin("publishing \(envelopes.count) messages from \(workers) tasks")
        let workers = max(1, min(workers, envelopes.count))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                let transport = transports[worker % transports.count]
                group.addTask {
                    for index in stride(from: worker, to: envelopes.count, by: workers) where !Task.isCancelled {
                        await self.publish(envelopes[index], via: transport, into: ledger)
                    }
                }
            }
        }
    }

    /// Publishes `envelopes` one after another, each confirmed before the next.
    func publishInOrder(_ envelopes: [Envelope], via transport: any Transport, into ledger: Ledger) async {
        activity.begin("publishing \(envelopes.count) messages in order")
        for envelope in envelopes where !Task.isCancelled {
            await publish(envelope, via: transport, into: ledger)
        }
    }
}
