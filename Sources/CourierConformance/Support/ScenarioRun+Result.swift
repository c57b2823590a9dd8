extension ScenarioRun {
    /// The scenario's result from its failures, notes and ledgers: missing, extra and duplicates are
    /// failures here (duplicates only where the transport claims exactly-once delivery).
    func result(duration: Duration) -> ScenarioResult {
        let ledgers = self.ledgers
        let missing = ledgers.flatMap(\.missing).sorted(by: naturalOrder)
        let extra = ledgers.flatMap(\.extra).sorted(by: naturalOrder)
        let duplicateIDs = ledgers.flatMap(\.duplicateIDs).sorted(by: naturalOrder)
        let duplicates = ledgers.reduce(0) { $0 + $1.duplicates }
        var failures = self.failures
        var notes = self.notes
        if !missing.isEmpty {
            failures.append("\(counted(missing.count, "confirmed message")) never arrived: \(listing(missing))")
        }
        if !extra.isEmpty {
            failures.append("\(counted(extra.count, "message")) arrived that were never published there: \(listing(extra))")
        }
        if duplicates > 0 {
            let text = "\(counted(duplicates, "duplicate delivery", plural: "duplicate deliveries")) (\(listing(duplicateIDs)))"
            if capabilities.exactlyOnceDelivery {
                failures.append("\(text) although the transport claims exactly-once delivery")
            } else {
                notes.append("\(text); allowed, the transport does not claim exactly-once delivery")
            }
        }
        let recovered = ledgers.reduce(0) { $0 + $1.recovered }
        if recovered > 0 {
            notes.append("\(counted(recovered, "message")) received although the publish outcome was unknown (recovered)")
        }
        if let interruption { failures.append(interruption) }
        let retries = publishRetries
        if retries > 0 { notes.append("\(counted(retries, "publish retry", plural: "publish retries")) after retriable errors") }
        let settleFailures = ledgers.flatMap(\.settleFailures)
        if let first = settleFailures.first {
            notes.append("\(counted(settleFailures.count, "settle call")) threw (the message comes again), first: \(first)")
        }
        return ScenarioResult(
            scenario: scenario,
            outcome: failures.isEmpty ? .passed : .failed(reasons: failures),
            attempted: ledgers.reduce(0) { $0 + $1.attemptedCount },
            confirmed: ledgers.reduce(0) { $0 + $1.confirmedCount },
            received: ledgers.reduce(0) { $0 + $1.processedCount },
            missing: missing,
            extra: extra,
            recovered: ledgers.reduce(0) { $0 + $1.recovered },
            duplicates: duplicates,
            notes: notes,
            duration: duration
        )
    }
}

/// `"1 message"`, `"3 messages"`.
func counted(_ count: Int, _ singular: String, plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}

/// The first ten ids, then how many more.
func listing(_ ids: [String], limit: Int = 10) -> String {
    let shown = ids.prefix(limit).joined(separator: ", ")
    return ids.count > limit ? "\(shown) and \(ids.count - limit) more" : shown
}
