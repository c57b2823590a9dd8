import Foundation
import Testing
@testable import CourierCLI

@Suite("courier demo", .timeLimit(.minutes(1)))
struct DemoCommandTests {
    /// The integer fields the producer issue promises in `--json`.
    static let producerFields = ["published", "confirmed", "failedOver", "spooled", "drainedFromSpool", "retried", "lost"]
    /// And those the consumer issue adds.
    static let consumerFields = ["consumed", "duplicatesDropped", "deadLettered", "redelivered"]

    private func runJSON(_ extra: [String] = []) async throws -> [String: Any] {
        let result = await runCourier(["demo", "--json", "--messages", "60"] + extra)
        #expect(result.status == 0, "\(result.out)\(result.err)")
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8))
        return try #require(object as? [String: Any])
    }

    @Test("--json reports failover, spooling, draining and no loss")
    func jsonCounts() async throws {
        let report = try await runJSON()
        for field in Self.producerFields + Self.consumerFields { #expect(report[field] is Int, "missing integer field \(field)") }
        let count = { (field: String) in report[field] as? Int ?? -1 }
        #expect(count("published") == 65)
        #expect(count("confirmed") + count("spooled") == 65)
        #expect(count("failedOver") > 0, "the primary went down: some messages must have failed over")
        #expect(count("spooled") > 0, "every transport went down: some messages must have been spooled")
        #expect(count("drainedFromSpool") == count("spooled"))
        #expect(count("retried") >= 1)
        #expect(count("consumed") + count("deadLettered") == 65)
        #expect(count("deadLettered") == 1, "the poison message")
        #expect(count("redelivered") > 0, "transient failures are redelivered later")
        #expect(count("duplicatesDropped") >= 1, "the injected duplicate and the lost confirm's twin")
        #expect(count("duplicateEffects") == 0)
        #expect(count("lost") == 0)
        #expect(count("unexpected") == 0)
        #expect(report["failedBack"] as? Bool == true)
    }

    @Test("the table names every stage and ends with OK")
    func table() async throws {
        let result = await runCourier(["demo", "--messages", "40"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        for label in ["published", "confirmed", "retried", "spooled", "drained from spool", "failed back", "consumed", "dead-lettered", "duplicate effects   0", "lost                0"] {
            #expect(result.out.contains("  \(label)"), "missing \(label)")
        }
        #expect(result.out.contains("Result: OK"))
    }

    @Test("a spool path given with --spool is used and kept")
    func keepsGivenSpool() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-demo-test-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await runJSON(["--spool", path])
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test("a message count below the minimum is a usage error")
    func tooFewMessages() async {
        let result = await runCourier(["demo", "--messages", "2"])
        #expect(result.status == 2)
        #expect(result.err.contains("'--messages 2' must be a whole number from 20 to 1000000"))
    }

    @Test("an unwritable spool path fails with a clear storage error")
    func unwritableSpool() async {
        let result = await runCourier(["demo", "--spool", "/nonexistent-directory/spool.sqlite"])
        #expect(result.status == 1)
        #expect(result.err.contains("cannot open /nonexistent-directory/spool.sqlite"))
        #expect(result.err.contains("writable"))
    }
}
