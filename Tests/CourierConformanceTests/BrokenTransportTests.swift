import Courier
import CourierConformance
import CourierMemory
import Testing

/// The suite against transports with one deliberate bug each: it must fail the right scenario, with a
/// message that names the problem.
@Suite("Conformance suite catches broken transports", .timeLimit(.minutes(2)))
struct BrokenTransportTests {
    /// A short-mode suite over a memory transport with `bug`. Where the bug makes a scenario stall, a
    /// short inactivity timeout keeps the test quick.
    private func suite(
        _ bug: BrokenTransport.Bug, capabilities: TransportCapabilities? = nil, inactivity: Duration = .seconds(10)
    ) -> ConformanceSuite {
        let shared = BrokenState()
        return MemoryConformance.suite(
            options: ConformanceOptions(mode: .short, inactivityTimeout: inactivity),
            capabilities: capabilities
        ) { BrokenTransport($0, bug: bug, shared: shared) }
    }

    @Test("a transport that drops a confirmed message fails with that id missing")
    func droppedMessageIsMissing() async throws {
        let result = await suite(.dropsPublish(number: 3), inactivity: .seconds(2)).run(.publishSubscribe)
        #expect(result.isFailed)
        #expect(result.missing.count == 1)
        let missing = try #require(result.missing.first)
        #expect(missing.hasSuffix("-s01-m2"), "the third publish is m2, got \(missing)")
        let reason = try #require(result.reason)
        #expect(reason.contains("1 confirmed message never arrived: \(missing)"), "\(reason)")
        #expect(reason.contains("stalled: nothing happened for 2.0 seconds while waiting until every confirmed message"), "\(reason)")
        #expect(result.confirmed == result.attempted)
        #expect(result.received == result.confirmed - 1)
    }

    @Test("a duplicate fails a transport that claims exactly-once, and is counted")
    func duplicateFailsExactlyOnce() async throws {
        var claimsExactlyOnce = MemoryTransport(broker: MemoryBroker(name: "capabilities")).capabilities
        claimsExactlyOnce.exactlyOnceDelivery = true
        let result = await suite(.duplicatesPublish(number: 2), capabilities: claimsExactlyOnce).run(.publishSubscribe)
        #expect(result.isFailed)
        #expect(result.duplicates == 1)
        #expect(result.missing.isEmpty && result.extra.isEmpty)
        let reason = try #require(result.reason)
        #expect(reason.contains("1 duplicate delivery"), "\(reason)")
        #expect(reason.contains("-s01-m1"), "\(reason)")
        #expect(reason.contains("claims exactly-once"), "\(reason)")
    }

    @Test("a duplicate is counted but allowed for an at-least-once transport")
    func duplicateAllowedAtLeastOnce() async {
        let result = await suite(.duplicatesPublish(number: 2)).run(.publishSubscribe)
        #expect(result.isPassed, "\(result.reason ?? "")")
        #expect(result.duplicates == 1)
        #expect(result.notes.contains { $0.contains("1 duplicate delivery") && $0.contains("allowed") }, "\(result.notes)")
    }

    @Test("a transport that reorders a key fails the order scenario, naming the key and the messages")
    func reorderFailsOrderPerKey() async throws {
        let result = await suite(.reordersPerKey).run(.orderPerKey)
        #expect(result.isFailed)
        #expect(result.missing.isEmpty, "reordering loses nothing: \(result.missing)")
        let reason = try #require(result.reason)
        #expect(reason.contains("per-key order violated for key key-0"), "\(reason)")
        #expect(reason.contains(" but was published before it"), "\(reason)")
        #expect(reason.contains("-s09-k0-m0 arrived after") && reason.contains("-s09-k0-m1 but"), "pairs are swapped: \(reason)")
    }

    @Test("a transport that treats nack as ack fails the nack scenarios, listing the nacked ids")
    func ignoredNackFails() async throws {
        let broken = suite(.ignoresNack, inactivity: .seconds(2))
        let result = await broken.run(.redeliveryOnNack)
        #expect(result.isFailed)
        let nacked = broken.options.counts.nackedMessages
        #expect(result.missing.count == nacked)
        #expect(result.missing.allSatisfy { id in (0..<nacked).contains { id.hasSuffix("-s04-m\($0)") } }, "\(result.missing)")
        let reason = try #require(result.reason)
        #expect(reason.contains("\(nacked) messages nacked with requeue never came back"), "\(reason)")

        let errors = await broken.run(.continueAfterErrors)
        #expect(errors.isFailed)
        #expect(errors.reason?.contains("the subscription stopped delivering after nacks") == true, "\(errors.reason ?? "")")
    }

    @Test("the same bugs pass unnoticed by no scenario they do not touch")
    func unrelatedScenariosStillPass() async {
        let result = await suite(.ignoresNack).run(.publishSubscribe)
        #expect(result.isPassed, "\(result.reason ?? "")")
    }
}
