import Foundation
import Testing
@testable import CourierCLI

@Suite("courier check and courier transports")
struct CheckCommandTests {
    @Test("lists transports in order with their capabilities")
    func listsTransports() async {
        let result = await runCourier(["check", "--transport", "memory://primary", "--transport", "memory://backup?max-message-bytes=1024"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("Configuration OK: 2 transports"))
        let primary = result.out.range(of: "1. memory://primary  (primary; from --transport #1)")
        let backup = result.out.range(of: "2. memory://backup?max-message-bytes=1024  (fallback 1; from --transport #2)")
        #expect(primary != nil && backup != nil)
        if let primary, let backup { #expect(primary.lowerBound < backup.lowerBound) }
        #expect(result.out.contains("max-message-bytes       1024"))
        #expect(result.out.contains("consumer-groups         yes"))
    }

    @Test("reads COURIER_TRANSPORTS when no flag is given")
    func environmentTransports() async {
        let result = await runCourier(["check"], environment: ["COURIER_TRANSPORTS": "memory://one, memory://two"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("1. memory://one  (primary; from COURIER_TRANSPORTS entry 1)"))
        #expect(result.out.contains("2. memory://two  (fallback 1; from COURIER_TRANSPORTS entry 2)"))
    }

    @Test("reads a JSON file given with --config, showing names and redacted URLs")
    func configFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-cli-\(UUID().uuidString).json").path
        let json = #"{"transports": [{"name": "tests", "url": "memory://tests", "options": {"capacity": 50}}]}"#
        #expect(FileManager.default.createFile(atPath: path, contents: Data(json.utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = await runCourier(["check", "--config", path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("1. tests  (primary; from \(path): transports[0])"))
        #expect(result.out.contains("url: memory://tests"))
    }

    @Test("an unknown scheme fails with exit 1, lists the schemes and never prints the password")
    func unknownScheme() async {
        let result = await runCourier(["check", "--transport", "amqq://user:hunter2@127.0.0.1/"])
        #expect(result.status == 1)
        #expect(result.err.contains("no transport is registered for scheme \"amqq\""))
        #expect(result.err.contains("registered schemes: "))
        #expect(result.err.contains("memory"))
        #expect(!result.err.contains("hunter2"))
        #expect(!result.out.contains("hunter2"))
    }

    @Test("a bad memory option fails naming the option and its range")
    func badOption() async {
        let result = await runCourier(["check", "--transport", "memory://x?capacity=zero"])
        #expect(result.status == 1)
        #expect(result.err.contains("--transport #2") == false)
        #expect(result.err.contains("--transport #1"))
        #expect(result.err.contains("capacity=\"zero\" must be a whole number"))
    }

    @Test("no configuration at all explains the three ways to give one")
    func nothingConfigured() async {
        let result = await runCourier(["check"])
        #expect(result.status == 1)
        #expect(result.err.contains("--transport URL"))
        #expect(result.err.contains("COURIER_TRANSPORTS"))
        #expect(result.err.contains("COURIER_CONFIG"))
    }

    @Test("a positional argument is a usage error")
    func positional() async {
        let result = await runCourier(["check", "memory://a"])
        #expect(result.status == 2)
        #expect(result.err.contains("unexpected argument 'memory://a'"))
    }

    @Test("courier transports lists the memory scheme with its summary")
    func transports() async {
        let result = await runCourier(["transports"])
        #expect(result.status == 0)
        let memory = result.out.split(separator: "\n").first { $0.hasPrefix("memory://") }
        #expect(memory?.contains("scripted faults") == true, "\(result.out)")
        // One line per scheme, sorted.
        let schemes = result.out.split(separator: "\n").map { $0.prefix { $0 != " " } }
        #expect(schemes == schemes.sorted())
    }
}
