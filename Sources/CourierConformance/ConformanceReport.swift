import Courier

/// The results of one conformance run, with a plain-text table for logs and test output.
public struct ConformanceReport: Sendable {
    /// The mode the run used.
    public let mode: ConformanceOptions.Mode
    /// The capabilities the transport declared.
    public let capabilities: TransportCapabilities
    /// One result per scenario run, in run order.
    public let results: [ScenarioResult]

    /// A report of `results` (made by ``ConformanceSuite/run(_:onResult:)``).
    public init(mode: ConformanceOptions.Mode, capabilities: TransportCapabilities, results: [ScenarioResult]) {
        self.mode = mode
        self.capabilities = capabilities
        self.results = results
    }

    /// The scenarios that passed.
    public var passed: [ScenarioResult] { results.filter(\.isPassed) }
    /// The scenarios that failed.
    public var failed: [ScenarioResult] { results.filter(\.isFailed) }
    /// The scenarios that were skipped, each with its reason.
    public var skipped: [ScenarioResult] { results.filter(\.isSkipped) }

    /// No scenario failed (skipped ones do not count as failures, nor as passes).
    public var allPassed: Bool { failed.isEmpty }

    /// The result of `scenario`, if it was run.
    public func result(_ scenario: ConformanceScenario) -> ScenarioResult? { results.first { $0.scenario == scenario } }

    /// `16 scenarios (short): 14 passed, 0 failed, 2 skipped in 1.52 s`.
    public var summary: String {
        let total = results.reduce(Duration.zero) { $0 + $1.duration }
        return "\(results.count) scenarios (\(mode.rawValue)): \(passed.count) passed, \(failed.count) failed, "
            + "\(skipped.count) skipped in \(seconds(total))"
    }

    /// One row per scenario: number, name, result, counts, time, and the reason for a failure or skip.
    public var table: String {
        let header = ["#", "scenario", "result", "attempted", "confirmed", "received", "missing", "extra", "dups", "time", "reason"]
        var rows = [header]
        for result in results {
            let ran = !result.isSkipped
            rows.append([
                String(result.scenario.number),
                result.name,
                result.status,
                ran ? String(result.attempted) : "-",
                ran ? String(result.confirmed) : "-",
                ran ? String(result.received) : "-",
                ran ? String(result.missing.count) : "-",
                ran ? String(result.extra.count) : "-",
                ran ? String(result.duplicates) : "-",
                ran ? seconds(result.duration) : "-",
                result.reason.map { shortened($0, to: 100) } ?? "",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.indices.map { column in
                let cell = row[column]
                let isLast = column == row.count - 1
                let isNumber = column != 1 && column != 2 && !isLast
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return isLast ? cell : (isNumber ? padding + cell : cell + padding)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return (lines + [summary]).joined(separator: "\n")
    }

    /// Every failure in full: the reasons, the missing and extra ids, and the notes.
    public var failureDetails: String {
        failed.map { result in
            var lines = ["\(result.scenario) FAILED"]
            if case .failed(let reasons) = result.outcome { lines += reasons.map { "  - \($0)" } }
            if !result.missing.isEmpty { lines.append("  missing: \(listing(result.missing, limit: 50))") }
            if !result.extra.isEmpty { lines.append("  extra: \(listing(result.extra, limit: 50))") }
            lines += result.notes.map { "  note: \($0)" }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// `0.42 s`.
func seconds(_ duration: Duration) -> String {
    let components = duration.components
    let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) s"
}

func shortened(_ text: String, to limit: Int) -> String {
    text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
