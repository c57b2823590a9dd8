import Courier

/// One thing a caller asked the idempotency store to do, applied in a batch by ``IdempotencyTable``.
enum IdempotencyRequest: Sendable {
    case claim(key: String, leaseMilliseconds: Int64, holder: IdempotencyHolder)
    case complete(key: String)
    case release(key: String, holder: IdempotencyHolder)

    var isClaim: Bool { if case .claim = self { true } else { false } }
    var isComplete: Bool { if case .complete = self { true } else { false } }
}

/// The idempotency store's table. Confined to the store's ``SQLiteThread``.
///
/// One row per key: `state` 0 is in progress (a claim by `holder` whose lease ends at `expires_at_ms`), 1
/// is completed (remembered until `expires_at_ms`). Times are milliseconds since 1970 on the clock's wall
/// time, so a restart keeps them meaningful. A row whose expiry has passed counts as absent; pruning
/// deletes such rows in bounded batches.
///
/// The table lives beside the spool's (`courier_spool`) and does not touch `PRAGMA user_version`, which
/// the spool owns; its own schema version is a row of `courier_schema`.
final class IdempotencyTable: @unchecked Sendable {
    /// 2 added `holder` (version 1 files are upgraded when opened).
    static let schemaVersion: Int64 = 2
    static let component = "idempotency"

    private let database: SQLiteDatabase
    private let timeToLiveMilliseconds: Int64
    /// Whether the connection currently syncs every commit (`synchronous = FULL`).
    private var syncsEveryCommit = true
    /// Claims applied since the last prune, for pruning every so many claims.
    var claimsSincePrune = 0

    init(database: SQLiteDatabase, timeToLiveMilliseconds: Int64) throws(CourierError) {
        self.database = database
        self.timeToLiveMilliseconds = timeToLiveMilliseconds
        try database.transaction { () throws(CourierError) in
            try database.execute("""
                CREATE TABLE IF NOT EXISTS courier_schema (
                    component TEXT PRIMARY KEY,
                    version INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS courier_idempotency (
                    key TEXT PRIMARY KEY,
                    state INTEGER NOT NULL CHECK (state IN (0, 1)),
                    expires_at_ms INTEGER NOT NULL,
                    holder INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS courier_idempotency_by_expiry ON courier_idempotency (expires_at_ms);
                """)
            let version = try database.withStatement("SELECT version FROM courier_schema WHERE component = ?") { statement throws(CourierError) in
                database.bind(statement, 1, .text(Self.component))
                return try database.step(statement) ? database.column(statement, 0).integer : nil
            }
            if let version, version > Self.schemaVersion {
                throw CourierError(
                    .storageFailure,
                    "\(database.path) was written by a newer Courier (idempotency schema \(version)); upgrade Courier or use another file"
                )
            }
            if version == 1 {
                try database.execute("ALTER TABLE courier_idempotency ADD COLUMN holder INTEGER NOT NULL DEFAULT 0")
            }
            try database.withStatement("INSERT OR REPLACE INTO courier_schema (component, version) VALUES (?, ?)") { statement throws(CourierError) in
                database.bind(statement, 1, .text(Self.component))
                database.bind(statement, 2, .integer(Self.schemaVersion))
                _ = try database.step(statement)
            }
        }
    }

    /// Applies `requests` in order in one transaction and answers each claim (nil for the others).
    ///
    /// The commit is synced to disk (one fsync for the whole batch) when the batch completes a key, the
    /// one outcome that must survive a power cut. Claims and releases alone are committed without a sync:
    /// they survive a crash of the process, and a power cut that loses one also ended its holder, so the
    /// key is at worst claimable again (a claim lost) or claimable once its lease ends (a release lost).
    func apply(_ requests: [IdempotencyRequest], now: Int64) throws(CourierError) -> [IdempotencyClaim?] {
        try setSyncsEveryCommit(requests.contains { $0.isComplete })
        let answers = try database.transaction { () throws(CourierError) -> [IdempotencyClaim?] in
            var answers: [IdempotencyClaim?] = []
            answers.reserveCapacity(requests.count)
            for request in requests {
                switch request {
                case .claim(let key, let lease, let holder):
                    answers.append(try claim(key, holder: holder, until: adding(now, lease), now: now))
                case .complete(let key):
                    try complete(key, until: adding(now, timeToLiveMilliseconds))
                    answers.append(nil)
                case .release(let key, let holder):
                    try release(key, holder: holder)
                    answers.append(nil)
                }
            }
            return answers
        }
        claimsSincePrune += requests.count(where: \.isClaim)
        return answers
    }

    /// Deletes at most `limit` rows that expired by `now` (completed keys past their time to live and
    /// leases nobody completed or released) and returns how many it deleted.
    func prune(now: Int64, limit: Int) throws(CourierError) -> Int {
        try setSyncsEveryCommit(false)
        claimsSincePrune = 0
        return try database.transaction { () throws(CourierError) -> Int in
            try database.withStatement("""
                DELETE FROM courier_idempotency WHERE key IN (
                    SELECT key FROM courier_idempotency WHERE expires_at_ms <= ?1 ORDER BY expires_at_ms LIMIT ?2
                ) RETURNING 1
                """) { statement throws(CourierError) in
                database.bind(statement, 1, .integer(now))
                database.bind(statement, 2, .integer(Int64(limit)))
                var deleted = 0
                while try database.step(statement) { deleted += 1 }
                return deleted
            }
        }
    }

    /// Rows stored right now, expired or not.
    func count() throws(CourierError) -> Int {
        Int(try database.queryText("SELECT count(*) FROM courier_idempotency").flatMap { Int64($0) } ?? 0)
    }

    /// Closes the database; later calls throw ``CourierError/Code/closed``.
    func close() { database.close() }

    /// Claims `key` unless a live row holds it: a new key is inserted, an expired row (a lapsed lease
    /// or a completed key past its time to live) is taken over. One upsert; a second statement reads
    /// the state only when the key is held.
    private func claim(_ key: String, holder: IdempotencyHolder, until expiry: Int64, now: Int64) throws(CourierError) -> IdempotencyClaim {
        let claimed = try database.withStatement("""
            INSERT INTO courier_idempotency (key, state, expires_at_ms, holder) VALUES (?1, 0, ?2, ?4)
            ON CONFLICT (key) DO UPDATE SET state = 0, expires_at_ms = excluded.expires_at_ms, holder = excluded.holder
                WHERE courier_idempotency.expires_at_ms <= ?3
            RETURNING 1
            """) { statement throws(CourierError) in
            database.bind(statement, 1, .text(key))
            database.bind(statement, 2, .integer(expiry))
            database.bind(statement, 3, .integer(now))
            database.bind(statement, 4, .integer(Int64(bitPattern: holder.token)))
            let returned = try database.step(statement)
            while try database.step(statement) {}
            return returned
        }
        if claimed { return .claimed }
        return try database.withStatement("SELECT state FROM courier_idempotency WHERE key = ?") { statement throws(CourierError) in
            database.bind(statement, 1, .text(key))
            guard try database.step(statement), let state = database.column(statement, 0).integer else {
                throw CourierError(.storageFailure, "\(database.path): the idempotency key \(key) was neither claimed nor found")
            }
            return state == 1 ? .completed : .inProgress
        }
    }

    /// Records `key` as completed until `expiry`, whether or not it was claimed (as the memory store).
    private func complete(_ key: String, until expiry: Int64) throws(CourierError) {
        try database.withStatement("""
            INSERT INTO courier_idempotency (key, state, expires_at_ms) VALUES (?1, 1, ?2)
            ON CONFLICT (key) DO UPDATE SET state = 1, expires_at_ms = excluded.expires_at_ms
            """) { statement throws(CourierError) in
            database.bind(statement, 1, .text(key))
            database.bind(statement, 2, .integer(expiry))
            _ = try database.step(statement)
        }
    }

    /// Forgets `key` if `holder` holds it in progress (anyone: whoever holds it); a completed key stays
    /// completed.
    private func release(_ key: String, holder: IdempotencyHolder) throws(CourierError) {
        try database.withStatement("DELETE FROM courier_idempotency WHERE key = ?1 AND state = 0 AND (?2 = 0 OR holder = ?2)") { statement throws(CourierError) in
            database.bind(statement, 1, .text(key))
            database.bind(statement, 2, .integer(Int64(bitPattern: holder.token)))
            _ = try database.step(statement)
        }
    }

    private func setSyncsEveryCommit(_ full: Bool) throws(CourierError) {
        guard full != syncsEveryCommit else { return }
        try database.execute(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        syncsEveryCommit = full
    }

    private func adding(_ time: Int64, _ milliseconds: Int64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(milliseconds)
        return overflow ? (milliseconds > 0 ? .max : .min) : sum
    }
}
