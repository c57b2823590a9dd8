import Courier

extension MemoryBroker {
    /// Injects `fault` now.
    public func inject(_ fault: MemoryFault) {
        withState { state in
            state.emit(.fault(fault))
            switch fault {
            case .failPublishes(let count, let retriable):
                state.publishFailures = (max(0, count), retriable)
            case .failPublishesRandomly(let probability, let seed):
                state.randomFailureProbability = probability > 0 ? min(probability, 1) : nil
                state.randomFailures = SeededGenerator(seed: seed)
            case .down:
                guard !state.isDown else { return }
                state.isDown = true
                state.downEpoch += 1
                returnAllInFlight(in: &state)
                let held = state.heldConfirms
                state.heldConfirms = []
                for (_, continuation) in held {
                    continuation.resume(throwing: CourierError.outcomeUnknown(
                        "memory broker \(name) went down before confirming; the message may have been stored"
                    ))
                }
            case .up:
                guard state.isDown else { return }
                state.isDown = false
                redispatchAll(in: &state)
            case .holdConfirms:
                state.holdConfirms = true
            case .releaseConfirms:
                state.holdConfirms = false
                let held = state.heldConfirms
                state.heldConfirms = []
                for (stored, continuation) in held { continuation.resume(returning: stored) }
            case .delayConfirms(let delay):
                state.confirmDelay = max(delay, .zero)
            case .duplicateDeliveries(let count):
                state.duplicateDeliveries = max(0, count)
            case .dropSubscriptions(let topic):
                dropSubscriptions(topic: topic, in: &state)
            }
        }
    }

    /// Runs a script of faults on the broker's clock: each step waits its delay after the previous one,
    /// then injects its fault. Cancel the task to stop the script.
    public func run(script: [(after: Duration, fault: MemoryFault)]) async throws {
        for step in script {
            try await clock.sleep(for: step.after)
            inject(step.fault)
        }
    }

    /// Every unsettled delivery goes back in line, as when connections drop.
    private func returnAllInFlight(in state: inout BrokerState) {
        for topic in state.topics.values {
            for group in topic.groups.values { group.returnInFlight { _ in true } }
        }
    }
}
