import Foundation

/// Writes RELIABILITY.md: the machine and the date, then one table per scenario with its counts, the
/// faults injected, run length, rate and failover timings.
public struct ReliabilityReport: Sendable {
    public var results: [ScenarioResult]
    public var machine: MachineDescription
    public var date: Date
    public var command: String

    public init(results: [ScenarioResult], machine: MachineDescription, date: Date = Date(), command: String) {
        self.results = results
        self.machine = machine
        self.date = date
        self.command = command
    }

    public var markdown: String {
        var text = """
            # Courier reliability: chaos scenarios

            Written by `make chaos` (`\(command)`) on \(Self.format(date)). Every figure below comes from that run: real
            processes (`courier chaos-worker produce|consume`), a real RabbitMQ \(machine.rabbitMQVersion) node
            (`.ci/rabbitmq`, port 5673) and librdkafka's mock cluster (`courier kafka-mock`).

            **Summary: \(results.filter(\.passed).count) of \(results.count) scenarios passed.**

            | # | scenario | passed | attempted | confirmed | lost | unexpected | duplicated | failover median | failback median |
            |---|---|---|---|---|---|---|---|---|---|

            """
        for result in results {
            let counts = result.counts
            let timings = result.timings
            text += "| \(result.number) | \(result.title) | \(result.passed ? "yes" : "**no**") | \(counts.map { "\($0.attempted)" } ?? "–") "
            text += "| \(counts.map { "\($0.confirmed)" } ?? "–") | \(counts.map { "\($0.lost)" } ?? "–") | \(counts.map { "\($0.unexpected)" } ?? "–") "
            text += "| \(counts.map { "\($0.duplicated)" } ?? "–") | \(Self.milliseconds(timings.flatMap { FailoverTimings.median($0.firstFallbackAnswer) })) "
            text += "| \(Self.milliseconds(timings.flatMap { FailoverTimings.median($0.failback) })) |\n"
        }
        text += "\n" + findings + "\n" + Self.method + "\n"
        for result in results { text += section(result) }
        text += machineSection
        return text
    }

    private func section(_ result: ScenarioResult) -> String {
        var text = "## \(result.number). \(result.title)\n\n"
        text += "**\(result.passed ? "Passed" : "FAILED")** (\(result.size.rawValue) run, \(String(format: "%.1f", result.durationSeconds)) s, "
        text += "\(String(format: "%.0f", result.publishRate)) messages/s attempted, first attempt to last)\n\n"
        for reason in result.failureReasons { text += "- Failure: \(reason)\n" }
        if !result.failureReasons.isEmpty { text += "\n" }
        if let counts = result.counts {
            text += "| count | value | meaning |\n|---|---|---|\n"
            let rows: [(String, Int, String)] = [
                ("attempted", counts.attempted, "written to the ledger before the publish"),
                ("confirmed", counts.confirmed, "the producer took responsibility: a broker confirm or a durable spool append"),
                ("ok", counts.ok, "confirmed and consumed"),
                ("lost", counts.lost, "confirmed, never consumed (must be 0)"),
                ("unexpected", counts.unexpected, "consumed, never attempted (must be 0)"),
                ("duplicated", counts.duplicated, "messages whose handler effect happened more than once (must be 0)"),
                ("recovered", counts.recovered, "outcome unknown to the producer's ledger, yet consumed"),
                ("unconfirmed, absent", counts.unconfirmedAbsent, "outcome unknown and never consumed (allowed)"),
                ("spooled", counts.spooled, "confirmed messages that went through the SQLite spool"),
                ("removed by idempotency", counts.removedByIdempotency, "deliveries acked without running the handler (key already done)"),
                ("dead-lettered", counts.deadLettered, "sent to the dead-letter destination"),
            ]
            for (name, value, meaning) in rows { text += "| \(name) | \(value) | \(meaning) |\n" }
            text += "\n"
        }
        if !result.faults.isEmpty {
            text += "Faults injected (\(result.faults.count)):\n\n| fault | started (s into the run) | duration |\n|---|---|---|\n"
            let origin = result.faults.map(\.startedAtMilliseconds).min() ?? 0
            for fault in result.faults {
                let offset = Double(fault.startedAtMilliseconds - origin) / 1000
                text += "| \(fault.kind) | +\(String(format: "%.1f", offset)) | \(fault.durationMilliseconds.map { Self.milliseconds($0) } ?? "instant") |\n"
            }
            text += "\n"
        }
        if let timings = result.timings {
            text += "Failover timings (each fault that took the preferred transport down):\n\n"
            text += "| timing | per fault | median |\n|---|---|---|\n"
            text += Self.timingRow("fault → detected (failover event or first spooled)", timings.detect)
            text += Self.timingRow("fault → first answer from the fallback", timings.firstFallbackAnswer)
            text += Self.timingRow("recovery → first confirm on the preferred transport", timings.failback)
            text += Self.timingRow("recovery → spool empty again (publishes queue behind a backlog)", timings.spoolDrained)
            if timings.startedWhileSpooling > 0 {
                text += "\n\(timings.startedWhileSpooling) fault(s) found the producer still answering from its spool (a backlog from an earlier fault): no failover to time, so they have no detection or fallback figure.\n"
            }
            if timings.missing > 0 { text += "\n\(timings.missing) timing(s) could not be taken (no fallback answer or no return seen).\n" }
            text += "\n"
        }
        for note in result.notes { text += "- \(note)\n" }
        return text + "\n"
    }

    /// What the figures say against the targets, derived from them (so a rerun rewrites it too).
    private var findings: String {
        var lines: [String] = []
        for result in results {
            guard let timings = result.timings else { continue }
            if let failover = FailoverTimings.median(timings.firstFallbackAnswer) {
                let verdict = failover <= 1_000 ? "meets" : "**misses**"
                lines.append("Scenario \(result.number): failover median \(Self.milliseconds(failover)) \(verdict) the 1 s target.")
            }
            if let failback = FailoverTimings.median(timings.failback) {
                let verdict = failback <= 5_000 ? "meets" : "**misses**"
                lines.append("Scenario \(result.number): failback median \(Self.milliseconds(failback)) \(verdict) the 5 s target.")
            }
            if timings.missing > 0 { lines.append("Scenario \(result.number): \(timings.missing) timing(s) could not be taken.") }
        }
        let spoolBound = results.filter { result in
            guard let counts = result.counts, counts.confirmed > 0 else { return false }
            return Double(counts.spooled) / Double(counts.confirmed) > 0.5
        }
        if !spoolBound.isEmpty {
            lines.append(
                "Scenarios \(spoolBound.map { String($0.number) }.joined(separator: ", ")): most confirmed messages went through the spool. "
                    + "The relay publishes spooled messages one at a time (each waits for its broker confirm; the confirmed ones are deleted a batch at a time), and while the spool "
                    + "holds a backlog new publishes queue behind it to keep order. So once a fault filled the spool, the producer answered from the spool "
                    + "until the offered load stopped: nothing is lost, but the throughput after a fault is the relay's (see \"spool empty again\"), "
                    + "and a later fault in the same run finds the producer already spooling (those faults are not timed)."
            )
        }
        guard !lines.isEmpty else { return "" }
        return "## Against the targets\n\n" + lines.map { "- \($0)\n" }.joined()
    }

    private var machineSection: String {
        """
        ## Machine

        - \(machine.cpu), \(machine.cores) cores, \(machine.memory); \(machine.system)
        - \(machine.toolchain); RabbitMQ \(machine.rabbitMQVersion), librdkafka (mock cluster) \(machine.librdkafkaVersion), SQLite \(machine.sqliteVersion)
        - \(machine.load)

        """
    }

    private static let method = """
        ## Method

        Each scenario runs in its own directory with two SQLite ledgers. The producer process writes every
        message id before publishing it and every answer after (confirmed by a transport, spooled, drained
        from the spool, failed). The consumer process's handler records its effect in the consumer ledger,
        which is also the consumer's idempotency store: the effect row and the completed key are committed in
        one transaction, so a consumer killed at any instant either did both or neither. Effect rows have no
        unique constraint, so an effect that ran twice shows as two rows. The counts are Jepsen's queue
        checker over the two ledgers. A scenario passes when lost = 0, unexpected = 0 and duplicated = 0.

        Failover timings come from the same ledgers: a fault's start and end are stamped by the driver
        (wall clock, milliseconds) and compared with the producer's failover events and answers. "First
        answer from the fallback" is the first message after the fault answered by another transport or by
        the spool; "failback" is the first confirm by the preferred transport after the fault was undone
        (for a RabbitMQ restart: after `.ci/rabbitmq start` returned, i.e. the node had booted). Targets:
        failover within 1 s (median), failback within 5 s. The producer runs with the default settings plus
        an attempt timeout of 500 ms (`retry.attemptTimeoutMs`; off by default), which is what ends waiting
        on a broker that is hung rather than down.

        Kafka faults start once the consumer group has consumed its first message: librdkafka 2.0.2's mock
        cluster aborts (assertion `!member->resp` in `rd_kafka_mock_cgrp_member_sync_set`) when its brokers
        go down while a group's SyncGroup is pending. A mock that dies anyway fails the scenario with that
        cause (its data lives in memory, so no count would mean anything).

        """

    private static func timingRow(_ name: String, _ values: [Int64]) -> String {
        "| \(name) | \(values.isEmpty ? "–" : values.map { milliseconds($0) }.joined(separator: ", ")) | \(milliseconds(FailoverTimings.median(values))) |\n"
    }

    static func milliseconds(_ value: Int64?) -> String {
        guard let value else { return "–" }
        return value >= 10_000 ? String(format: "%.1f s", Double(value) / 1000) : "\(value) ms"
    }

    private static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
