import Courier
import CourierAMQP
import Foundation
import Glibc
import Synchronization
import Testing

/// Ids confirmed by the publisher and ids seen by the consumer.
final class Ledger: Sendable {
    let confirmed = Mutex<Set<String>>([])
    let received = Mutex<Set<String>>([])
    let deliveries = Atomic<Int>(0)

    var missing: Set<String> { confirmed.withLock { $0 }.subtracting(received.withLock { $0 }) }
}

extension AMQPIntegrationTests {
    @Suite("AMQP recovery")
    struct RecoveryTests {
        @Test("broker restart mid-stream: every confirmed message is consumed and the consumer resumes by itself")
        func brokerRestart() async throws {
            let transport = try await TestBroker.transport("declare-groups=g&reconnect-min-ms=100&reconnect-max-ms=1000&heartbeat=2")
            let topic = TestBroker.uniqueTopic("restart")
            let events = transport.monitor.events()
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 50))
            let ledger = Ledger()
            let consumer = Task {
                for try await delivery in stream {
                    ledger.deliveries.add(1, ordering: .relaxed)
                    ledger.received.withLock { _ = $0.insert(delivery.envelope.id) }
                    try? await delivery.ack()
                }
            }
            let total = 3000
            let publisher = Task {
                for index in 0..<total {
                    let envelope = Envelope(topic: topic, text: "message \(index)")
                    // Resend until confirmed: the id stays, so a resend after an unknown outcome is a duplicate at worst.
                    while true {
                        do {
                            _ = try await transport.publish(envelope)
                            ledger.confirmed.withLock { _ = $0.insert(envelope.id) }
                            break
                        } catch let error as CourierError where error.isRetriable {
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    if index % 100 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            try await eventually(.seconds(30), "a third of the messages confirmed before the restart") {
                ledger.confirmed.withLock { $0.count } >= total / 3
            }
            trace("restarting the broker with \(ledger.confirmed.withLock { $0.count }) confirmed")
            try await BrokerControl.script("restart")
            trace("broker restarted")
            do {
                try await eventually(.seconds(90), "publishing \(total) messages across the restart") {
                    ledger.confirmed.withLock { $0.count } == total
                }
            } catch {
                publisher.cancel()
                consumer.cancel()
                await transport.shutdown()
                throw error
            }
            trace("all \(total) confirmed; \(ledger.missing.count) not consumed yet")
            try await eventually(.seconds(30), "every confirmed message consumed (missing: \(ledger.missing.count))") {
                ledger.missing.isEmpty
            }
            #expect(transport.monitor.recoveryCount >= 1)
            #expect(transport.monitor.isConnected)
            let duplicates = ledger.deliveries.load(ordering: .relaxed) - ledger.received.withLock { $0.count }
            print("restart: \(total) confirmed, all consumed, \(duplicates) redelivered duplicates, \(transport.monitor.recoveryCount) recoveries")

            var seen: [AMQPConnectionEvent] = []
            for await event in events {
                seen.append(event)
                if case .recovered = event { break }
            }
            #expect(seen.contains { if case .lost = $0 { true } else { false } })
            #expect(seen.contains { if case .recovered(_, _, let consumers) = $0 { consumers == 1 } else { false } })

            consumer.cancel()
            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("with several hosts in the URL, a dead one is skipped")
        func hostList() async throws {
            let transport = try TestBroker.makeTransport(url: "amqp://guest:guest@127.0.0.1:1,127.0.0.1:5672/")
            let events = transport.monitor.events()
            do {
                try await transport.start()
            } catch let error as CourierError where error.code == .unavailable {
                throw TestBroker.NotRunning(description: "RabbitMQ is not reachable (\(error.message)); start it with make rabbitmq-start")
            }
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .connected(address: "127.0.0.1:5672"))
            #expect(transport.monitor.isConnected)
            await transport.shutdown()
        }

        @Test("a frozen broker (SIGSTOP) is detected by heartbeats within two intervals, and the transport recovers after SIGCONT")
        func brokerHung() async throws {
            let transport = try await TestBroker.transport("declare-groups=g&heartbeat=1&connect-timeout=2&reconnect-min-ms=100&reconnect-max-ms=500")
            let topic = TestBroker.uniqueTopic("hung")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g"))
            _ = try await transport.publish(Envelope(topic: topic, text: "before"))
            var iterator = stream.makeAsyncIterator()
            try await nextDelivery(&iterator, idle: .seconds(5)).ack()

            try BrokerControl.signal(SIGSTOP)
            let frozenAt = ContinuousClock.now
            do {
                try await eventually(.seconds(6), "heartbeat timeout noticed") { transport.monitor.lossCount >= 1 }
            } catch {
                try? BrokerControl.signal(SIGCONT)
                throw error
            }
            let detectedAfter = ContinuousClock.now - frozenAt
            try BrokerControl.signal(SIGCONT)
            // Two 1 s intervals, plus up to a quarter interval of polling and scheduling slack.
            #expect(detectedAfter <= .milliseconds(3000), "detected after \(detectedAfter)")
            print("SIGSTOP detected after \(detectedAfter)")

            try await eventually(.seconds(30), "recovery after SIGCONT") { transport.monitor.recoveryCount >= 1 }
            let id = try await transport.publish(Envelope(topic: topic, text: "after")).messageID
            let after = try await nextDelivery(&iterator, idle: .seconds(10))
            #expect(after.envelope.id == id, "the subscription resumed by itself")
            try await after.ack()

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }
    }
}
