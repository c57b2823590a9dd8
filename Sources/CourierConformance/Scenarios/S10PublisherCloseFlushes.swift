import Courier

extension ScenarioRun {
    /// 10. The publisher shuts down while many publishes are in flight: every publish it confirmed is
    /// delivered, and a publish after the shutdown throws.
    func publisherCloseFlushes() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let subscriber = try await makeTransport()
        _ = try await subscribeAndConsume(subscriber, topic: topic, into: ledger, member: "subscriber")
        let publisher = try await makeTransport()
        let envelopes = (0..<counts.flushMessages).map { message($0, topic: topic) }
        let half = envelopes.count / 2
        activity.begin("publishing \(envelopes.count) messages at once and shutting the publisher down midway")
        await withTaskGroup(of: Void.self) { group in
            for envelope in envelopes {
                group.addTask { await self.publish(envelope, via: publisher, into: ledger, expectingErrors: true) }
            }
            group.addTask {
                try? await self.waitUntil("half the publishes are confirmed") { ledger.confirmedCount >= half }
                await publisher.shutdown()
            }
        }
        note("\(ledger.confirmedCount) of \(envelopes.count) publishes confirmed around the shutdown")
        do {
            _ = try await publisher.publish(message(envelopes.count, topic: topic))
            fail("a publish after shutdown() succeeded; it must throw (closed)")
        } catch let error as CourierError {
            note("a publish after shutdown threw: \(error)")
        } catch {
            fail("a publish after shutdown threw \(type(of: error)), not a CourierError: \(error)")
        }
        try await waitForEverything(in: [ledger])
    }
}
