import Courier

extension ScenarioRun {
    /// 14. Once the subscriber has received a first part, the rest is published while the broker is
    /// restarted (twice by default) through the test's hook: publishes retry retriable errors with the same id, the subscriber keeps going (or
    /// subscribes again after subscription-lost), and every confirmed message is received.
    func reconnect() async throws {
        guard let restartBroker = options.restartBroker else { return }
        let topic = try await makeTopic()
        let group = capabilities.consumerGroups ? groupName("reconnecting") : nil
        let ledger = ledger(topic + (group.map { " as \($0)" } ?? ""))
        let subscriber = try await makeTransport()
        let consumer = consume(
            try await subscribe(subscriber, topic: topic, group: group), into: ledger, member: "subscriber",
            resubscribe: { try await subscriber.subscribe(Subscription(topic: topic, group: group)) }
        )
        let publisher = try await makeTransport()
        let envelopes = (0..<counts.reconnectMessages).map { message($0, topic: topic) }
        let restarts = max(0, counts.restarts)
        let phases = restarts + 1
        for phase in 0..<phases {
            let part = Array(envelopes[(envelopes.count * phase / phases)..<(envelopes.count * (phase + 1) / phases)])
            if phase == 0 {
                await publishConcurrently(part, via: [publisher], into: ledger, workers: counts.reconnectPublishers)
                // The subscription is established (it received the first part) before the broker goes away:
                // the scenario is about a running subscriber, and librdkafka 2.0.2's mock cluster does not
                // recover a group whose first join a restart interrupts (received nothing in some CI runs).
                try await waitForEverything(in: [ledger])
                continue
            }
            // The restart runs while this phase publishes.
            async let restarted: Void = restart(number: phase, using: restartBroker)
            await publishConcurrently(part, via: [publisher], into: ledger, workers: counts.reconnectPublishers)
            await restarted
        }
        try await waitForEverything(in: [ledger])
        note("broker restarted \(counted(restarts, "time")); subscription reopened \(counted(consumer.resubscriptions, "time"))")
    }

    /// Runs the hook with the inactivity timeout suspended (up to the restart timeout).
    private func restart(number: Int, using restartBroker: ConformanceOptions.RestartBroker) async {
        activity.begin("restarting the broker (restart \(number))")
        activity.allowSilence(for: options.restartTimeout)
        defer { activity.endSilence() }
        do {
            try await restartBroker()
        } catch {
            fail("restart \(number) of the broker failed: \(error)")
        }
    }
}
