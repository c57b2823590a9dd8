import Courier

extension ScenarioRun {
    /// 6. Subscriber instances of one group take turns: each acks its share of the messages, holds the
    /// next ones unacked, then closes its subscription and shuts its transport down; the next instance
    /// picks up where it stopped (the held messages included). Nothing is lost across close and reopen.
    func continueAfterSubscriberClose() async throws {
        let topic = try await makeTopic()
        let group = groupName("resuming")
        let ledger = ledger("\(topic) as \(group)")
        let rounds = max(1, counts.resumeRounds)
        let total = counts.resumeMessages
        var transport = try await makeTransport()
        // The group exists from the first subscription on, so messages published now wait for it.
        var stream = try await subscribe(transport, topic: topic, group: group)
        let publisher = try await makeTransport()
        await publishConcurrently((0..<total).map { message($0, topic: topic) }, via: [publisher], into: ledger, workers: 4)
        for round in 1...rounds {
            if round > 1 {
                transport = try await makeTransport()
                stream = try await subscribe(transport, topic: topic, group: group)
            }
            let target = total * round / rounds
            let consumer = consume(stream, into: ledger, member: "instance \(round)") { _, ledger in
                ledger.processedCount < target ? .ack : .hold
            }
            if round == rounds { break }
            try await waitUntil("instance \(round) has acked its share (\(target) in all)") { ledger.processedCount >= target }
            await consumer.stop()
            if !options.singleInstance { await transport.shutdown() }
        }
        try await waitForEverything(in: [ledger])
        let shares = ledger.processedPerMember.sorted { naturalOrder($0.key, $1.key) }.map { "\($0.key): \($0.value)" }
        note("acked per instance: \(shares.joined(separator: ", "))")
    }
}
