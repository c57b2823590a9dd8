import Courier

extension ScenarioRun {
    /// 11. Three topics whose names share a prefix (`T`, `T-other`, `T.sub`) each get only their own
    /// messages, watched for a quiet period after everything arrived.
    func topicIsolation() async throws {
        let subscriber = try await makeTransport()
        let publisher = try await makeTransport()
        var topics: [(name: String, ledger: Ledger)] = []
        for suffix in ["", "-other", ".sub"] {
            let topic = try await makeTopic(suffix)
            let ledger = ledger(topic)
            _ = try await subscribeAndConsume(subscriber, topic: topic, into: ledger, member: "reader of \(topic)")
            topics.append((topic, ledger))
        }
        let labels = ["a-m", "b-m", "c-m"]
        activity.begin("publishing to \(topics.count) topics, interleaved")
        for index in 0..<counts.isolationMessages {
            for (number, topic) in topics.enumerated().reversed() {
                await publish(message(index, topic: topic.name, label: labels[number]), via: publisher, into: topic.ledger)
            }
        }
        try await waitForEverything(in: topics.map(\.ledger))
        activity.begin("watching for \(options.quietPeriod) that no topic gets another's messages")
        try await Task.sleep(for: options.quietPeriod)
    }
}
