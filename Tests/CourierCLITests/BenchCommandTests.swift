import Foundation
import Testing
@testable import CourierCLI

@Suite("courier bench", .timeLimit(.minutes(1)))
struct BenchCommandTests {
    private func runJSON<Report: Decodable>(_ arguments: [String], as type: Report.Type) async throws -> (Report, String) {
        let result = await runCourier(["bench"] + arguments + ["--json"])
        #expect(result.status == 0, "\(result.out)\(result.err)")
        return (try JSONDecoder().decode(Report.self, from: Data(result.out.utf8)), result.err)
    }

    @Test("producer --json: one row per stage, each with wall and CPU spreads over the rounds and its added cost")
    func producerLadder() async throws {
        let (report, progress) = try await runJSON(["producer", "--messages", "300", "--runs", "3"], as: ThroughputReport.self)
        #expect(report.scenario == "producer" && report.messages == 300 && report.runs == 3)
        #expect(report.rows.map(\.name) == ProducerBenchmark(messages: 1, payload: []).stages.map(\.name))
        #expect(report.rows.count == 6)
        for row in report.rows {
            let wall = row.wallNanosecondsPerMessage
            #expect(wall.min > 0 && wall.min <= wall.median && wall.median <= wall.max, "\(row.name): \(wall)")
            #expect(row.cpuNanosecondsPerMessage.min >= 0)
            #expect(abs(row.messagesPerSecond - 1e9 / wall.median) < 1)
        }
        #expect(report.rows.first?.addedNanosecondsPerMessage == nil)
        #expect(report.rows.dropFirst().allSatisfy { $0.addedNanosecondsPerMessage != nil })
        #expect(progress.contains("[bench] producer: round 3/3"), "the progress line goes to standard error")
    }

    @Test("consumer --json: from the bare subscription to the full pipeline")
    func consumerLadder() async throws {
        let (report, _) = try await runJSON(["consumer", "--messages", "300", "--runs", "1", "--quiet"], as: ThroughputReport.self)
        #expect(report.rows.map(\.name) == [
            "bare subscription, ack each", "+ consumer (slots, recoverability, DLQ armed)",
            "+ idempotency check (memory store)", "+ handler breaker (full pipeline)",
            "full pipeline, SQLite store instead",
        ])
        // The SQLite row is beside the ladder: the pipeline's overhead ends at the full (memory store) pipeline.
        #expect(report.rows.map(\.besideLadder) == [nil, nil, nil, nil, true])
        let bare = try #require(report.rows.first).wallNanosecondsPerMessage.median
        #expect(report.pipelineOverheadNanoseconds == report.rows[3].wallNanosecondsPerMessage.median - bare)
    }

    @Test("latency on memory: percentiles of confirmed publish and end to end, in order")
    func latencyOnMemory() async throws {
        let (report, _) = try await runJSON(["latency", "--messages", "100", "--rate", "2000", "--runs", "2", "--quiet"], as: LatencyReport.self)
        #expect(report.transport == "memory://bench" && report.rate == 2000 && report.messages == 100)
        #expect(report.publishP50.median > 0 && report.publishP50.median <= report.publishP99.median)
        #expect(report.endToEndP50.median > 0 && report.endToEndP50.median <= report.endToEndP99.median)
    }

    @Test("bad input is a usage error that says what to do", arguments: [
        (["nonsense"], "the scenarios are: producer, consumer, latency"),
        (["producer", "--rate", "100"], "--rate applies to the latency scenario only"),
        (["latency", "--rate", "0"], "--rate"),
        (["producer", "--runs", "0"], "--runs"),
        (["latency", "--confirm-window", "8"], "--confirm-window and --persistent apply to amqp:// transports"),
        (["latency", "--transport", "amqp://127.0.0.1:1/", "--persistent", "yes"], "--persistent must be true or false"),
    ])
    func usageErrors(arguments: [String], message: String) async {
        let result = await runCourier(["bench"] + arguments)
        #expect(result.status == 2)
        #expect(result.err.contains(message), "\(result.err)")
    }

    @Test("latency on a transport that is not there fails with the transport's error, not a hang")
    func unknownTransport() async {
        let result = await runCourier(["bench", "latency", "--transport", "nosuch://x", "--quiet"])
        #expect(result.status != 0)
        #expect(result.err.contains("nosuch"), "\(result.err)")
    }

    @Test("--confirm-window and --persistent become the AMQP URL's options")
    func amqpOptions() throws {
        let arguments = try ParsedArguments.parse(
            ["latency", "--transport", "amqp://guest:guest@127.0.0.1:5672/?heartbeat=5", "--confirm-window", "64", "--persistent", "false"],
            options: BenchCommand().options, command: "courier bench"
        )
        #expect(try BenchCommand.transportURL(arguments) == "amqp://guest:guest@127.0.0.1:5672/?heartbeat=5&confirm-window=64&persistent=false")
    }

    @Test("median, min, max and nearest-rank percentiles")
    func statistics() {
        let three = Spread([3, 1, 2])
        #expect(three.median == 2 && three.min == 1 && three.max == 3)
        #expect(Spread([4, 1, 2, 3]).median == 2.5)
        let hundred = (1...100).map(Double.init)
        #expect(percentile(hundred, 0.5) == 50)
        #expect(percentile(hundred, 0.99) == 99)
        #expect(percentile([7], 0.99) == 7)
        #expect(percentile([], 0.5) == 0)
    }
}
