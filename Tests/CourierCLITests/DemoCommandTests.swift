import Testing
@testable import CourierCLI

@Suite("courier demo", .timeLimit(.minutes(1)))
struct DemoCommandTests {
    @Test("runs through its faults and accounts for every message")
    func demoSummary() async throws {
        let result = await runCourier(["demo", "--messages", "30"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        #expect(result.out.contains("published           30 confirmed of 30"))
        #expect(result.out.contains("handled             30 unique messages"))
        #expect(result.out.contains("redelivered         1 "))
        #expect(result.out.contains("lost                0"))
        #expect(result.out.contains("unexpected          0"))
        #expect(result.out.contains("order per key       kept"))
        #expect(result.out.contains("Result: OK"))
        let retries = try #require(result.out.split(separator: "\n").first { $0.contains("publish retries") })
        // Two injected failures plus at least one while the broker was down.
        let count = Int(retries.split(separator: " ").dropFirst(2).first ?? "") ?? 0
        #expect(count >= 3)
    }

    @Test("a message count below the minimum is a usage error")
    func tooFewMessages() async {
        let result = await runCourier(["demo", "--messages", "2"])
        #expect(result.status == 2)
        #expect(result.err.contains("'--messages 2' must be a whole number from 4 to 100000"))
    }
}
