/// Reads a finished (or running) run's ledger files into values the accounting works on.
struct LedgerReader {
    let directory: String

    /// The snapshot of both ledgers.
    func snapshot() throws(ChaosError) -> LedgerSnapshot {
        let producer = try LedgerDatabase(path: directory + "/" + ProducerLedger.fileName)
        defer { producer.close() }
        try producer.execute(Self.producerTables)
        let attempted = Set(try producer.rows("SELECT id FROM attempts").compactMap { $0.first?.text })
        var acknowledged = Set<String>(), spooled = Set<String>()
        for row in try producer.rows("SELECT id, kind FROM outcomes WHERE kind IN ('confirmed', 'spooled')") {
            guard let id = row.first?.text else { continue }
            acknowledged.insert(id)
            if row.last?.text == PublishOutcomeRecord.Kind.spooled.rawValue { spooled.insert(id) }
        }
        let consumer = try LedgerDatabase(path: directory + "/" + ConsumerLedger.fileName)
        defer { consumer.close() }
        try consumer.execute(Self.consumerTables)
        var effects: [String: Int] = [:]
        for row in try consumer.rows("SELECT id, COUNT(*) FROM effects GROUP BY id") {
            guard let id = row.first?.text, let count = row.last?.integer else { continue }
            effects[id] = Int(count)
        }
        return LedgerSnapshot(
            attempted: attempted, acknowledged: acknowledged, spooled: spooled, effects: effects,
            removedByIdempotency: Int(try consumer.queryInteger("SELECT COUNT(*) FROM removed")),
            deadLettered: Int(try consumer.queryInteger("SELECT COUNT(*) FROM dead_letters"))
        )
    }

    /// When the producer got each answer and failed over.
    func timeline() throws(ChaosError) -> ProducerTimeline {
        let producer = try LedgerDatabase(path: directory + "/" + ProducerLedger.fileName)
        defer { producer.close() }
        try producer.execute(Self.producerTables)
        let answers = try producer.rows("SELECT at_ms, kind, transport FROM outcomes WHERE kind != 'failed'").compactMap { row -> ProducerTimeline.Answer? in
            guard let time = row[0].integer else { return nil }
            return ProducerTimeline.Answer(atMilliseconds: time, transport: row[1].text == "spooled" ? nil : row[2].text)
        }
        let failovers = try producer.rows("SELECT at_ms FROM events WHERE kind = 'failed-over'").compactMap { $0.first?.integer }
        let spoolChanges = try producer.rows("SELECT at_ms, kind FROM outcomes WHERE kind IN ('spooled', 'drained')").compactMap { row -> ProducerTimeline.SpoolChange? in
            guard let time = row[0].integer else { return nil }
            return ProducerTimeline.SpoolChange(atMilliseconds: time, change: row[1].text == "spooled" ? 1 : -1)
        }
        return ProducerTimeline(answers: answers, failovers: failovers, spoolChanges: spoolChanges)
    }

    /// Messages attempted per second, from the first attempt to the last.
    func attemptRate() throws(ChaosError) -> Double {
        let producer = try LedgerDatabase(path: directory + "/" + ProducerLedger.fileName)
        defer { producer.close() }
        try producer.execute(Self.producerTables)
        guard let row = try producer.rows("SELECT COUNT(*), MIN(at_ms), MAX(at_ms) FROM attempts").first,
            let count = row[0].integer, let first = row[1].integer, let last = row[2].integer, last > first
        else { return 0 }
        return Double(count) * 1000 / Double(last - first)
    }

    /// Messages consumed so far (distinct ids with an effect), for the driver's progress checks.
    func consumedCount() throws(ChaosError) -> Int {
        let consumer = try LedgerDatabase(path: directory + "/" + ConsumerLedger.fileName)
        defer { consumer.close() }
        try consumer.execute(Self.consumerTables)
        return Int(try consumer.queryInteger("SELECT COUNT(DISTINCT id) FROM effects"))
    }

    /// Messages consumed so far that came through `transport`.
    func consumedCount(through transport: String) throws(ChaosError) -> Int {
        let consumer = try LedgerDatabase(path: directory + "/" + ConsumerLedger.fileName)
        defer { consumer.close() }
        try consumer.execute(Self.consumerTables)
        return Int(try consumer.queryInteger("SELECT COUNT(*) FROM effects WHERE transport = ?", [.text(transport)]))
    }

    /// Messages spooled and not yet drained (by this ledger's rows).
    func spoolBacklog() throws(ChaosError) -> Int {
        let producer = try LedgerDatabase(path: directory + "/" + ProducerLedger.fileName)
        defer { producer.close() }
        try producer.execute(Self.producerTables)
        return Int(
            try producer.queryInteger(
                """
                SELECT COUNT(DISTINCT id) FROM outcomes AS spooled WHERE kind = 'spooled'
                AND NOT EXISTS (SELECT 1 FROM outcomes AS drained WHERE drained.id = spooled.id AND drained.kind = 'drained')
                """
            )
        )
    }

    /// Messages the producer took responsibility for that no consumer has run yet.
    func unconsumedCount() throws(ChaosError) -> Int {
        let producer = try LedgerDatabase(path: directory + "/" + ProducerLedger.fileName)
        defer { producer.close() }
        try producer.execute(Self.producerTables)
        let consumerPath = directory + "/" + ConsumerLedger.fileName
        try LedgerDatabase(path: consumerPath).execute(Self.consumerTables)
        try producer.run("ATTACH DATABASE ? AS consumer", [.text(consumerPath)])
        return Int(
            try producer.queryInteger(
                """
                SELECT COUNT(DISTINCT id) FROM outcomes AS answer WHERE kind IN ('confirmed', 'spooled')
                AND NOT EXISTS (SELECT 1 FROM consumer.effects AS effect WHERE effect.id = answer.id)
                """
            )
        )
    }

    // The schemas create empty tables when a process never started, so a reader never fails on a missing table.
    private static let producerTables = ProducerLedger.schema
    private static let consumerTables = ConsumerLedger.schema
}
