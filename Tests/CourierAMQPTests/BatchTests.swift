import Courier
import CourierAMQP
import Foundation
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP batches: publish(contentsOf:), batched hand-over, bulk acks")
    struct BatchTests {
        @Test("publish(contentsOf:) pipelines a batch larger than the window; each outcome in order, a bad envelope fails alone")
        func publishBatch() async throws {
            let transport = try await TestBroker.transport("confirm-window=16&max-message-bytes=1000")
            let topic = TestBroker.uniqueTopic("batch")
            let nowhere = TestBroker.uniqueTopic("batch-nowhere")
            #expect(await transport.publish(contentsOf: []).isEmpty)
            // Subscribed first, so `topic` has a queue and `nowhere` has none.
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "batch", prefetch: 50))

            var envelopes = (0..<100).map { Envelope(topic: topic, text: "message \($0)") }
            envelopes[37] = Envelope(topic: topic, payload: [UInt8](repeating: 1, count: 1001))
            envelopes[50] = Envelope(topic: nowhere, text: "no queue takes this")
            let outcomes = await transport.publish(contentsOf: envelopes)
            #expect(outcomes.count == 100)
            for (index, outcome) in outcomes.enumerated() {
                switch (index, outcome) {
                case (37, .failure(let error)): #expect(error.code == .messageTooLarge)
                case (50, .failure(let error)): #expect(error.code == .unroutable, "\(error)")
                case (_, .success(let confirmation)):
                    #expect(index != 37 && index != 50)
                    #expect(confirmation.messageID == envelopes[index].id)
                    #expect(confirmation.topic == topic)
                case (_, .failure(let error)):
                    Issue.record("envelope \(index) failed: \(error)")
                }
            }

            // One subscription on a queue fed by one channel sees them in publish order.
            let expected = envelopes.enumerated().filter { $0.offset != 37 && $0.offset != 50 }.map(\.element.id)
            let received = try await take(expected.count, from: stream).map(\.envelope.id)
            #expect(received == expected)

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["batch"])
            try? await transport.delete(.exchange(nowhere))
            await transport.shutdown()
        }

        @Test("publish(contentsOf:) before start and after shutdown fails every envelope with the reason")
        func publishBatchNotRunning() async throws {
            let transport = try TestBroker.makeTransport()
            let envelopes = [Envelope(topic: "t", text: "a"), Envelope(topic: "t", text: "b")]
            let early = await transport.publish(contentsOf: envelopes)
            #expect(early.count == 2)
            for outcome in early {
                guard case .failure(let error) = outcome else { Issue.record("published before start"); continue }
                #expect(error.code == .notStarted)
            }
            try await transport.start()
            await transport.shutdown()
            for outcome in await transport.publish(contentsOf: envelopes) {
                guard case .failure(let error) = outcome else { Issue.record("published after shutdown"); continue }
                #expect(error.code == .closed)
            }
        }

        @Test("acks taken in bulk never cover a delivery still unsettled below them")
        func bulkAcksSkipUnsettled() async throws {
            let transport = try await TestBroker.transport("declare-groups=g")
            let topic = TestBroker.uniqueTopic("bulk-ack")
            let ids = await transport.publish(contentsOf: (0..<40).map { Envelope(topic: topic, text: "m\($0)") }).map { try? $0.get().messageID }
            #expect(ids.allSatisfy { $0 != nil })

            // Hold the fourth delivery and ack every other one, in batches as they come.
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 40))
            let box = IteratorBox(stream.makeAsyncIterator())
            var held: Delivery?
            var seen = 0
            while seen < 40 {
                let batch = try await within(.seconds(10), "40 deliveries (\(seen) so far)") { try await box.nextBatch() }
                guard let deliveries = batch else { Issue.record("the stream ended after \(seen)"); break }
                for delivery in deliveries {
                    if seen == 3 { held = delivery } else { try await delivery.ack() }
                    seen += 1
                }
            }
            #expect(held?.envelope.id == ids[3])
            // Closing returns the held delivery to the queue: it, and only it, comes back.
            await stream.close()
            let again = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 40))
            let marker = try await transport.publish(Envelope(topic: topic, text: "marker")).messageID
            let back = try await take(2, from: again).map(\.envelope.id)
            #expect(back == [ids[3] ?? "", marker])

            await again.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test(
            "acks below the wake-up threshold reach the broker within milliseconds, without a close",
            arguments: [false, true]
        )
        func queuedAcksAreWrittenWithoutClose(heldFirst: Bool) async throws {
            let transport = try await TestBroker.transport("declare-groups=g&reconnect-min-ms=50")
            let topic = TestBroker.uniqueTopic("quiet-acks")
            // Prefetch 100 wakes the connection thread at 25 queued acks; these are 5.
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 100))
            for outcome in await transport.publish(contentsOf: (0..<5).map { Envelope(topic: topic, text: "m\($0)") }) { _ = try outcome.get() }
            if heldFirst {
                // Held long enough for the connection thread to park: the acks go through the parked path
                // (how fast is not timed here; rabbitmqctl below takes longer than the thread's 1 s poll).
                let held = try await take(5, from: stream) { _ in }
                try await Task.sleep(for: .milliseconds(300))
                for delivery in held { try await delivery.ack() }
            } else {
                _ = try await take(5, from: stream)
            }
            try await Task.sleep(for: .milliseconds(300))

            // The broker drops the connection (no flush by the client): unwritten acks would come back as
            // redeliveries once the transport has recovered and resubscribed.
            try await BrokerControl.ctl(["close_all_connections", "courier test: drop without a flush"])
            try await eventually(.seconds(30), "recovery after the broker closed the connection") { transport.monitor.recoveryCount >= 1 }
            let marker = try await transport.publish(Envelope(topic: topic, text: "marker")).messageID
            let next = try await take(1, from: stream)
            #expect(next.map(\.envelope.id) == [marker], "an acked message came back: its ack was never written")

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }
    }
}
