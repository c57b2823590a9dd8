import Courier

extension ScenarioRun {
    /// 3. Many topics at once, subscribed on one transport and published concurrently from another:
    /// each topic's subscriber gets exactly that topic's full set.
    func manyTopics() async throws {
        let subscriber = try await makeTransport()
        let publisher = try await makeTransport()
        var topics: [(name: String, ledger: Ledger)] = []
        for number in 1...max(1, counts.topics) {
            let topic = try await makeTopic("-\(number)")
            let ledger = ledger(topic)
            _ = try await subscribeAndConsume(subscriber, topic: topic, into: ledger, member: "topic \(number)")
            topics.append((topic, ledger))
        }
        activity.begin("publishing to \(topics.count) topics at once")
        await withTaskGroup(of: Void.self) { group in
            for (number, topic) in topics.enumerated() {
                group.addTask {
                    for index in 0..<self.counts.messagesPerTopic where !Task.isCancelled {
                        let envelope = self.message(index, topic: topic.name, label: "t\(number + 1)-m")
                        await self.publish(envelope, via: publisher, into: topic.ledger)
                    }
                }
            }
        }
        try await waitForEverything(in: topics.map(\.ledger))
    }
}
