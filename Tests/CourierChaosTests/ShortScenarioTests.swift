import CourierChaos
import Foundation
import Testing

/// The short versions of scenarios 1, 4 and 5 that `make test` runs: real `courier` worker processes, a
/// private RabbitMQ node on port 5673 (started and stopped here) and Kafka mock clusters. One at a time:
/// they share the node and kill it.
@Suite(.serialized) struct ShortScenarioTests {
    @Test(arguments: [1, 4, 5]) func shortScenarioLosesNothingAndHasEveryEffectOnce(number: Int) async throws {
        let driver = ChaosDriver(environment: try Self.environment())
        let result = await driver.run(scenario: number, size: .short)
        await driver.stopRabbitMQ()
        #expect(result.driverError == nil, "\(result.driverError ?? "")")
        let counts = try #require(result.counts)
        #expect(counts.attempted > 0)
        #expect(counts.confirmed > 0)
        #expect(counts.lost == 0)
        #expect(counts.unexpected == 0)
        #expect(counts.duplicated == 0)
        #expect(counts.ok == counts.confirmed)
        #expect(!result.faults.isEmpty)
        #expect(result.passed, "\(result.failureReasons)")
    }

    /// The repository (from this file's path) and the `courier` executable built beside the tests.
    static func environment() throws -> ChaosEnvironment {
        // #filePath is ROOT/Tests/CourierChaosTests/ShortScenarioTests.swift.
        let root = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        let testBinaryDirectory = String(CommandLine.arguments[0]).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let candidates = [
            ProcessInfo.processInfo.environment["COURIER_CHAOS_EXECUTABLE"],
            testBinaryDirectory + "/courier",
            root + "/.build/debug/courier",
        ].compactMap { $0 }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ChaosError("no courier executable among \(candidates); run `swift build` first or set COURIER_CHAOS_EXECUTABLE")
        }
        return ChaosEnvironment(executable: executable, repositoryRoot: root, workDirectory: root + "/.courier/chaos-tests")
    }
}
