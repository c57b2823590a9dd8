import Courier

extension ScenarioRun {
    /// 9. Several ordering keys, each published in sequence by a task of its own (all keys at once):
    /// per key, one subscriber sees the messages in publish order. Duplicates (redeliveries of a message
    /// already seen) are left out of the order check.
    func orderPerKey() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let subscriber = try await makeTransport()
        _ = try await subscribeAndConsume(subscriber, topic: topic, into: ledger, member: "subscriber")
        let publisher = try await makeTransport()
        let keys = (0..<max(1, counts.orderingKeys)).map { "key-\($0)" }
        activity.begin("publishing \(keys.count) keys at once, each in order")
        await withTaskGroup(of: Void.self) { group in
            for (number, key) in keys.enumerated() {
                group.addTask {
                    let envelopes = (0..<self.counts.messagesPerKey).map {
                        self.message($0, topic: topic, label: "k\(number)-m", key: key)
                    }
                    await self.publishInOrder(envelopes, via: publisher, into: ledger)
                }
            }
        }
        try await waitForEverything(in: [ledger])
        checkOrder(of: ledger, keys: keys)
    }

    /// Fails once per key whose first arrivals are out of confirm order, naming the first inversion.
    private func checkOrder(of ledger: Ledger, keys: [String]) {
        let position = Dictionary(uniqueKeysWithValues: ledger.confirmedIDs.enumerated().map { ($1, $0) })
        var seen: Set<String> = []
        var lastByKey: [String: (id: String, position: Int)] = [:]
        var violations: [String: String] = [:]
        for arrival in ledger.arrivals {
            guard let key = arrival.orderingKey, let current = position[arrival.id], seen.insert(arrival.id).inserted else { continue }
            if let last = lastByKey[key], last.position > current, violations[key] == nil {
                violations[key] = "\(arrival.id) arrived after \(last.id) but was published before it"
            }
            lastByKey[key] = (arrival.id, current)
        }
        for key in keys where violations[key] != nil {
            fail("per-key order violated for key \(key): \(violations[key] ?? "")")
        }
    }
}
