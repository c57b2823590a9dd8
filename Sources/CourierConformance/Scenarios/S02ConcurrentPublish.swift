import Courier

extension ScenarioRun {
    /// 2. Thousands of messages from many concurrent publishing tasks over two transports, read by
    /// several members of one group (one subscriber where the transport has no groups): nothing lost.
    func concurrentPublish() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let group = capabilities.consumerGroups ? groupName("readers") : nil
        let subscribers = group == nil ? 1 : max(1, counts.concurrentSubscribers)
        for member in 0..<subscribers {
            let transport = try await makeTransport()
            _ = try await subscribeAndConsume(transport, topic: topic, group: group, into: ledger, member: "reader \(member + 1)")
        }
        if group == nil { note("one subscriber: the transport has no consumer groups") }
        let publishers = [try await makeTransport(), try await makeTransport()]
        let envelopes = (0..<counts.concurrentMessages).map { message($0, topic: topic) }
        await publishConcurrently(envelopes, via: publishers, into: ledger, workers: counts.concurrentPublishers)
        try await waitForEverything(in: [ledger])
        let shares = ledger.processedPerMember.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        note("received per subscriber: \(shares.joined(separator: ", "))")
    }
}
