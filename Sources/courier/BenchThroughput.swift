import Foundation

/// One row of a throughput benchmark: a round that returns wall nanoseconds per message.
struct BenchContender {
    let name: String
    /// Reported after the ladder, not as one of its stages (an alternative to the full pipeline).
    var besideLadder = false
    let round: () async throws -> Double
}

/// One row's figures over the measured rounds.
struct ContenderResult: Codable, Sendable {
    let name: String
    let wallNanosecondsPerMessage: Spread
    let cpuNanosecondsPerMessage: Spread
    /// From the median wall time.
    let messagesPerSecond: Double
    /// Median wall nanoseconds this row adds to the row before it (the cost of its stage); nil on the first row.
    let addedNanosecondsPerMessage: Double?
    /// An alternative to the full pipeline shown beside the ladder (its "adds" compares it with the full
    /// pipeline); nil on ladder rows.
    var besideLadder: Bool? = nil
}

/// A throughput scenario's result, printed as a table or one line of JSON.
struct ThroughputReport: Codable, Sendable {
    let scenario: String
    let messages: Int
    let runs: Int
    let payloadBytes: Int
    let rows: [ContenderResult]

    /// One warm-up round per row (not counted), then `runs` rounds with the rows alternating, so a slow
    /// moment of the machine spreads over all of them instead of hitting one.
    static func measure(
        scenario: String, messages: Int, runs: Int, payloadBytes: Int, contenders: [BenchContender], progress: BenchProgress
    ) async throws -> ThroughputReport {
        for contender in contenders {
            progress.update("\(scenario): warm-up, \(contender.name)")
            _ = try await contender.round()
        }
        var wall = Array(repeating: [Double](), count: contenders.count)
        var cpu = Array(repeating: [Double](), count: contenders.count)
        for run in 1...runs {
            for (index, contender) in contenders.enumerated() {
                progress.update("\(scenario): round \(run)/\(runs), \(contender.name)")
                let recorder = CPUTimeRecorder()
                wall[index].append(try await CPUTimeRecorder.$current.withValue(recorder) { try await contender.round() })
                cpu[index].append(recorder.value ?? 0)
            }
        }
        progress.finish()
        var rows: [ContenderResult] = []
        for (index, contender) in contenders.enumerated() {
            let spread = Spread(wall[index])
            rows.append(ContenderResult(
                name: contender.name,
                wallNanosecondsPerMessage: spread,
                cpuNanosecondsPerMessage: Spread(cpu[index]),
                messagesPerSecond: spread.median > 0 ? 1e9 / spread.median : 0,
                addedNanosecondsPerMessage: rows.last.map { spread.median - $0.wallNanosecondsPerMessage.median },
                besideLadder: contender.besideLadder ? true : nil
            ))
        }
        return ThroughputReport(scenario: scenario, messages: messages, runs: runs, payloadBytes: payloadBytes, rows: rows)
    }

    /// What the last ladder row (the full pipeline) adds to the first (the bare transport), per message.
    var pipelineOverheadNanoseconds: Double {
        guard let first = rows.first, let last = rows.last(where: { $0.besideLadder != true }) else { return 0 }
        return last.wallNanosecondsPerMessage.median - first.wallNanosecondsPerMessage.median
    }

    func lines() -> [String] {
        func ns(_ value: Double) -> String { String(format: "%.0f", value) }
        var lines = [
            "courier bench \(scenario): \(messages) messages x \(runs) rounds (after one warm-up), \(payloadBytes)-byte payloads",
            "stage".padding(toLength: 46, withPad: " ", startingAt: 0)
                + "wall ns/msg median (min-max)   cpu ns/msg      msg/s   stage adds",
        ]
        for row in rows {
            let wall = row.wallNanosecondsPerMessage
            let spread = "\(ns(wall.median)) (\(ns(wall.min))-\(ns(wall.max)))"
            lines.append(
                row.name.padding(toLength: 46, withPad: " ", startingAt: 0)
                    + spread.padding(toLength: 31, withPad: " ", startingAt: 0)
                    + ns(row.cpuNanosecondsPerMessage.median).padding(toLength: 11, withPad: " ", startingAt: 0)
                    + String(format: "%10.0f", row.messagesPerSecond)
                    + (row.addedNanosecondsPerMessage.map { String(format: "   %+.0f ns", $0) } ?? "")
            )
        }
        lines.append("the pipeline adds \(ns(pipelineOverheadNanoseconds)) ns/msg to the bare transport")
        return lines
    }

    func json() -> String { encodeBenchJSON(self) }
}

/// One line of JSON with sorted keys.
func encodeBenchJSON(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
