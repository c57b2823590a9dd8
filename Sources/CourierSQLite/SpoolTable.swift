import Courier
import Foundation

/// The spool's table and its running depth. Confined to the spool's ``SQLiteThread``.
final class SpoolTable: @unchecked Sendable {
    static let schemaVersion = 1

    private let database: SQLiteDatabase
    private let limits: SQLiteSpool.Limits
    private(set) var depth: SpoolDepth

    init(database: SQLiteDatabase, limits: SQLiteSpool.Limits) throws(CourierError) {
        self.database = database
        self.limits = limits
        try database.execute("""
            CREATE TABLE IF NOT EXISTS courier_spool (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                message_id TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                topic TEXT NOT NULL,
                ordering_key TEXT,
                priority INTEGER,
                headers TEXT NOT NULL,
                payload BLOB NOT NULL,
                content_type TEXT,
                timestamp_ms INTEGER NOT NULL,
                correlation_id TEXT,
                spooled_at_ms INTEGER NOT NULL
            )
            """)
        let version = Int(try database.queryText("PRAGMA user_version") ?? "0") ?? 0
        if version > Self.schemaVersion {
            throw CourierError(.storageFailure, "\(database.path) was written by a newer Courier (spool schema \(version)); upgrade Courier or drain it with that version")
        }
        try database.execute("PRAGMA user_version = \(Self.schemaVersion)")
        depth = try database.withStatement("SELECT count(*), coalesce(sum(length(payload)), 0) FROM courier_spool") { statement throws(CourierError) in
            _ = try database.step(statement)
            return SpoolDepth(
                messages: Int(database.column(statement, 0).integer ?? 0),
                bytes: Int(database.column(statement, 1).integer ?? 0)
            )
        }
    }

    /// Inserts `envelopes` in one transaction (one fsync for the batch). Each gets its sequence, or the
    /// backpressure error when it does not fit.
    func append(_ envelopes: [Envelope], spooledAt: Date) throws(CourierError) -> [Result<Int64, CourierError>] {
        try database.transaction { () throws(CourierError) -> [Result<Int64, CourierError>] in
            var results: [Result<Int64, CourierError>] = []
            var added = SpoolDepth(messages: 0, bytes: 0)
            for envelope in envelopes {
                let messages = depth.messages + added.messages + 1
                let bytes = depth.bytes + added.bytes + envelope.payload.count
                guard messages <= limits.maxMessages, bytes <= limits.maxBytes else {
                    results.append(.failure(full(envelope)))
                    continue
                }
                results.append(.success(try insert(envelope, spooledAt: spooledAt)))
                added.messages += 1
                added.bytes += envelope.payload.count
            }
            depth.messages += added.messages
            depth.bytes += added.bytes
            return results
        }
    }

    func oldest(limit: Int) throws(CourierError) -> [SpooledMessage] {
        try database.withStatement("""
            SELECT sequence, message_id, idempotency_key, topic, ordering_key, priority, headers, payload,
                   content_type, timestamp_ms, correlation_id
            FROM courier_spool ORDER BY sequence LIMIT ?
            """) { statement throws(CourierError) in
            database.bind(statement, 1, .integer(Int64(limit)))
            var messages: [SpooledMessage] = []
            while try database.step(statement) {
                messages.append(try row(statement))
            }
            return messages
        }
    }

    /// Closes the database; later calls throw ``CourierError/Code/closed``.
    func close() { database.close() }

    /// Deletes `sequences` in one transaction (one synced commit); unknown ones are skipped.
    func remove(sequences: [Int64]) throws(CourierError) {
        let removed = try database.transaction { () throws(CourierError) -> SpoolDepth in
            var removed = SpoolDepth(messages: 0, bytes: 0)
            for sequence in sequences {
                let bytes = try database.withStatement("SELECT length(payload) FROM courier_spool WHERE sequence = ?") { statement throws(CourierError) in
                    database.bind(statement, 1, .integer(sequence))
                    return try database.step(statement) ? Int(database.column(statement, 0).integer ?? 0) : nil
                }
                guard let bytes else { continue }
                try database.withStatement("DELETE FROM courier_spool WHERE sequence = ?") { statement throws(CourierError) in
                    database.bind(statement, 1, .integer(sequence))
                    _ = try database.step(statement)
                }
                removed.messages += 1
                removed.bytes += bytes
            }
            return removed
        }
        depth.messages -= removed.messages
        depth.bytes -= removed.bytes
    }

    private func insert(_ envelope: Envelope, spooledAt: Date) throws(CourierError) -> Int64 {
        try database.withStatement("""
            INSERT INTO courier_spool (message_id, idempotency_key, topic, ordering_key, priority, headers, payload,
                                       content_type, timestamp_ms, correlation_id, spooled_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING sequence
            """) { statement throws(CourierError) in
            let values: [SQLiteValue] = [
                .text(envelope.id),
                .text(envelope.idempotencyKey),
                .text(envelope.topic),
                envelope.orderingKey.map(SQLiteValue.text) ?? .null,
                envelope.priority.map { .integer(Int64($0)) } ?? .null,
                .text(try encodeHeaders(envelope.headers)),
                .blob(envelope.payload),
                envelope.contentType.map(SQLiteValue.text) ?? .null,
                .integer(envelope.timestampMilliseconds),
                envelope.correlationID.map(SQLiteValue.text) ?? .null,
                .integer(milliseconds(spooledAt)),
            ]
            for (index, value) in values.enumerated() { database.bind(statement, Int32(index + 1), value) }
            guard try database.step(statement), let sequence = database.column(statement, 0).integer else {
                throw CourierError(.storageFailure, "\(database.path): the insert returned no sequence")
            }
            return sequence
        }
    }

    private func row(_ statement: OpaquePointer) throws(CourierError) -> SpooledMessage {
        func text(_ index: Int32) -> String? { database.column(statement, index).text }
        guard let sequence = database.column(statement, 0).integer, let id = text(1), let key = text(2), let topic = text(3) else {
            throw CourierError(.storageFailure, "\(database.path): a spool row is missing required columns")
        }
        let envelope = Envelope(
            topic: topic,
            payload: database.column(statement, 7).blob ?? [],
            id: id,
            idempotencyKey: key,
            orderingKey: text(4),
            priority: database.column(statement, 5).integer.map { UInt8(clamping: $0) },
            headers: try decodeHeaders(text(6) ?? "{}"),
            contentType: text(8),
            timestamp: Date(timeIntervalSince1970: Double(database.column(statement, 9).integer ?? 0) / 1000),
            correlationID: text(10)
        )
        return SpooledMessage(sequence: sequence, envelope: envelope)
    }

    private func full(_ envelope: Envelope) -> CourierError {
        CourierError(
            .backpressure,
            "the spool \(database.path) is full (\(depth.messages) messages, \(depth.bytes) payload bytes; limits \(limits.maxMessages) and \(limits.maxBytes)); message \(envelope.id) was not taken. Slow down until a transport recovers, or raise spool.maxMessages / spool.maxBytes",
            isRetriable: true
        )
    }

    private func encodeHeaders(_ headers: [String: String]) throws(CourierError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(headers), let text = String(data: data, encoding: .utf8) else {
            throw CourierError(.invalidMessage, "the message headers cannot be encoded for the spool")
        }
        return text
    }

    private func decodeHeaders(_ text: String) throws(CourierError) -> [String: String] {
        guard let headers = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw CourierError(.storageFailure, "\(database.path): a spool row has unreadable headers")
        }
        return headers
    }

    private func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
