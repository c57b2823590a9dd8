import Courier

extension ScenarioRun {
    /// 12. A group subscriber acks half the messages and holds the next ones unacked; then its task is
    /// cancelled. The iteration must end promptly, and a new subscription in the group must get every
    /// message that was not acked (the held ones included).
    func cancellation() async throws {
        let topic = try await makeTopic()
        let group = groupName("cancelled")
        let ledger = ledger("\(topic) as \(group)")
        let total = max(2, counts.cancellationMessages)
        let half = total / 2
        let transport = try await makeTransport()
        let first = try await subscribeAndConsume(transport, topic: topic, group: group, into: ledger, member: "cancelled subscriber") { _, ledger in
            ledger.processedCount < half ? .ack : .hold
        }
        let publisher = try await makeTransport()
        await publishConcurrently((0..<total).map { message($0, topic: topic) }, via: [publisher], into: ledger, workers: 4)
        try await waitUntil("\(half) messages are acked and one more is held") {
            ledger.processedCount >= half && !first.held.isEmpty
        }
        let held = first.held.map(\.envelope.id)
        activity.begin("cancelling the subscriber's task")
        first.cancelTask()
        if !(await first.waitUntilEnded()) {
            fail("the iteration did not end within \(options.inactivityTimeout) of cancelling its task")
        }
        let again = try await makeTransport()
        _ = try await subscribeAndConsume(again, topic: topic, group: group, into: ledger, member: "new subscriber")
        try await waitForEverything(in: [ledger])
        let lost = held.filter { !ledger.wasProcessed($0) }
        if !lost.isEmpty { fail("held (unacked) messages did not come back after the cancel: \(listing(lost))") }
        note("\(half) acked before the cancel, \(held.count) held unacked and delivered again")
    }
}
