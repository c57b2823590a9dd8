import Courier
import Testing

@Suite("observability: courier send and consume refuse bad input with what to do instead")
struct SendConsumeUsageTests {
    @Test("each mistake exits 2 with a message naming the option and the fix", arguments: [
        (["send", "--transport", "memory://a", "hello"], "'--topic T' is required"),
        (["consume", "--transport", "memory://a"], "'--topic T' is required"),
        (["send", "--transport", "memory://a", "--topic", "t", "--header", "novalue", "x"], "must look like name=value"),
        (["send", "--transport", "memory://a", "--topic", "t", "--header", "courier-id=1", "x"], "reserved namespace"),
        (["send", "--transport", "memory://a", "--topic", "t", "--idempotency-key", "k", "x", "y"], "send one message per run"),
        (["send", "--transport", "memory://a", "--topic", "t", "--log-level", "loud", "x"], "use one of trace, debug"),
        (["consume", "--transport", "memory://a", "--topic", "t", "--metrics-host", "0.0.0.0"], "'--metrics-host' needs '--metrics-port'"),
        (["consume", "--transport", "memory://a", "--topic", "t", "--count", "0"], "'--count 0' must be a whole number from 1"),
        (["send", "--transport", "memory://a", "--topic", "t", "--metrics-port", "70000", "x"], "from 0 to 65535"),
    ])
    func usageErrors(arguments: [String], expected: String) async {
        let result = await runCourier(arguments)
        #expect(result.status == 2, "\(arguments): \(result.err)")
        #expect(result.err.contains(expected), "\(arguments): \(result.err)")
    }

    @Test("an idempotency key with several lines on standard input sends the first and refuses the rest")
    func idempotencyKeyWithManyLines() async {
        let result = await runCourier(["send", "--transport", "memory://a", "--topic", "t", "--idempotency-key", "k"], input: ["one", "two"])
        #expect(result.status == 2)
        #expect(result.err.contains("sent 1 message to t"))
        #expect(result.err.contains("standard input holds more than one message"))
    }

    @Test("an unknown transport scheme is a configuration error, not a crash")
    func unknownScheme() async {
        let result = await runCourier(["consume", "--transport", "nats://u:pw@host/", "--topic", "t"])
        #expect(result.status == 1)
        #expect(result.err.contains("nats"))
        #expect(!result.err.contains(":pw@"))
    }
}
