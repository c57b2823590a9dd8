import Courier

extension ScenarioRun {
    /// 7. Subscribers are opened and closed concurrently (half by closing the stream, half by shutting
    /// their transport down): their streams end, they take nothing published afterwards, and a new
    /// subscriber gets every message.
    func concurrentClose() async throws {
        let topic = try await makeTopic()
        let group = capabilities.consumerGroups ? groupName("closing") : nil
        let strays = self.ledger("\(topic) (closed subscribers)")
        let count = max(1, counts.closingSubscribers)
        activity.begin("opening \(count) subscribers at once")
        let opened = try await withThrowingTaskGroup(of: (any Transport, DeliveryStream).self) { tasks in
            for _ in 0..<count {
                tasks.addTask {
                    let transport = try await self.makeTransport()
                    return (transport, try await self.subscribe(transport, topic: topic, group: group))
                }
            }
            var opened: [(any Transport, DeliveryStream)] = []
            for try await pair in tasks { opened.append(pair) }
            return opened
        }
        activity.begin("closing \(count) subscribers at once")
        await withTaskGroup(of: Void.self) { tasks in
            for (index, (transport, stream)) in opened.enumerated() {
                tasks.addTask {
                    if index % 2 == 1 && !self.options.singleInstance { await transport.shutdown() } else { await stream.close() }
                }
            }
        }
        // A closed stream must end; anything it still yields is booked as a stray.
        let closed = opened.enumerated().map { index, pair in
            consume(pair.1, into: strays, member: "closed subscriber \(index + 1)", alreadyClosed: true)
        }
        for consumer in closed where !(await consumer.waitUntilEnded()) {
            fail("\(consumer.member): its stream did not end within \(options.inactivityTimeout) of closing")
        }
        let ledger = ledger(topic + (group.map { " as \($0)" } ?? ""))
        let reader = try await makeTransport()
        _ = try await subscribeAndConsume(reader, topic: topic, group: group, into: ledger, member: "new subscriber")
        let publisher = try await makeTransport()
        let envelopes = (0..<counts.afterCloseMessages).map { message($0, topic: topic) }
        await publishConcurrently(envelopes, via: [publisher], into: ledger, workers: 4)
        try await waitForEverything(in: [ledger])
        if strays.arrivalCount > 0 {
            fail("closed subscribers received \(counted(strays.arrivalCount, "message")): \(listing(strays.arrivals.map(\.id)))")
        }
    }
}
