import Courier
import CourierSQLite
import Foundation
import Testing

private let lease = Duration.seconds(30)
private let origin = Date(timeIntervalSince1970: 1_800_000_000)

/// Claims `key` from `tasks` concurrent tasks, spread over `stores`, and returns every answer.
private func claimConcurrently(_ key: String, tasks: Int, stores: [SQLiteIdempotencyStore]) async throws -> [IdempotencyClaim] {
    try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
        for index in 0..<tasks {
            let store = stores[index % stores.count]
            group.addTask { try await store.claim(key, lease: lease) }
        }
        var answers: [IdempotencyClaim] = []
        for try await answer in group { answers.append(answer) }
        return answers
    }
}

/// Opens a store at `path`, completes `completed`, claims `claimed` and lets the store go without
/// calling close(), as a process that dies would.
private func recordAndAbandon(path: String, clock: VirtualClock, completed: [String], claimed: [String]) async throws {
    let store = try await SQLiteIdempotencyStore.open(path: path, clock: clock)
    for key in completed {
        #expect(try await store.claim(key, lease: lease) == .claimed)
        try await store.complete(key)
    }
    for key in claimed { #expect(try await store.claim(key, lease: lease) == .claimed) }
}

/// Asks `store.count()` until it answers `expected` or five seconds pass; returns the last answer.
private func eventualCount(_ store: SQLiteIdempotencyStore, _ expected: Int) async throws -> Int {
    let deadline = ContinuousClock.now + .seconds(5)
    var count = try await store.count()
    while count != expected, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
        count = try await store.count()
    }
    return count
}

@Suite("SQLiteIdempotencyStore", .timeLimit(.minutes(1)))
struct SQLiteIdempotencyStoreTests {
    // MARK: Claim, complete, release

    @Test func aCompletedKeyAnswersCompleted() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        try await store.complete("order-1")
        #expect(try await store.claim("order-1", lease: lease) == .completed)
        #expect(try await store.claim("order-1", lease: lease) == .completed)
        #expect(try await store.claim("order-2", lease: lease) == .claimed)
        #expect(try await store.count() == 2)
        await store.close()
    }

    @Test func aKeyInProgressAnswersInProgress() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        #expect(try await store.claim("order-1", lease: lease) == .inProgress)
        #expect(try await store.claim("order-1", lease: .seconds(1)) == .inProgress)
        await store.close()
    }

    @Test func releaseMakesAnInProgressKeyClaimableAgain() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        try await store.release("order-1")
        #expect(try await store.count() == 0)
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        // Releasing a key nobody holds is harmless.
        try await store.release("never-claimed")
        await store.close()
    }

    @Test func releaseLeavesACompletedKeyCompleted() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        try await store.complete("order-1")
        try await store.release("order-1")
        #expect(try await store.claim("order-1", lease: lease) == .completed)
        await store.close()
    }

    @Test func completingAnUnclaimedKeyRecordsIt() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        try await store.complete("order-1")
        #expect(try await store.claim("order-1", lease: lease) == .completed)
        await store.close()
    }

    // MARK: Leases and time to live

    @Test func anExpiredLeaseCanBeClaimedAgain() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let clock = VirtualClock()
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: clock)
        #expect(try await store.claim("order-1", lease: .seconds(30)) == .claimed)
        clock.advance(by: .seconds(29))
        #expect(try await store.claim("order-1", lease: .seconds(30)) == .inProgress)
        clock.advance(by: .seconds(1))
        // The holder crashed: its lease ran out, and the key is taken over with a fresh lease.
        #expect(try await store.claim("order-1", lease: .seconds(30)) == .claimed)
        #expect(try await store.claim("order-1", lease: .seconds(30)) == .inProgress)
        clock.advance(by: .seconds(29))
        #expect(try await store.claim("order-1", lease: .seconds(30)) == .inProgress)
        await store.close()
    }

    @Test func aLateReleaseDoesNotFreeTheClaimATwinTookAfterTheLeaseLapsed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let clock = VirtualClock()
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: clock)
        let slow = IdempotencyHolder(token: 11), twin = IdempotencyHolder(token: 22)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: slow) == .claimed)
        clock.advance(by: .seconds(30))
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: twin) == .claimed)
        // The slow holder fails after its lease lapsed: its release must leave the twin's claim alone.
        try await store.release("order-1", holder: slow)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: IdempotencyHolder(token: 33)) == .inProgress)
        try await store.release("order-1", holder: twin)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: IdempotencyHolder(token: 33)) == .claimed)
        // `anyone` frees whatever claim there is.
        try await store.release("order-1", holder: .anyone)
        #expect(try await store.count() == 0)
        await store.close()
    }

    @Test func aCompletedKeyIsRememberedForItsTimeToLiveThenPruned() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let clock = VirtualClock()
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), timeToLive: .seconds(60), clock: clock)
        for key in ["a", "b", "c"] {
            #expect(try await store.claim(key, lease: lease) == .claimed)
            try await store.complete(key)
        }
        clock.advance(by: .seconds(59))
        #expect(try await store.claim("a", lease: lease) == .completed)
        #expect(try await store.pruneExpired() == 0)
        clock.advance(by: .seconds(1))
        // Past its time to live a key counts as new even before it is pruned ...
        #expect(try await store.claim("a", lease: lease) == .claimed)
        // ... and pruning deletes the expired rows.
        #expect(try await store.count() == 3)
        #expect(try await store.pruneExpired() == 2)
        #expect(try await store.count() == 1)
        #expect(try await store.claim("b", lease: lease) == .claimed)
        await store.close()
    }

    @Test func pruningRunsByItselfInBatchesEverySoManyClaims() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let clock = VirtualClock()
        let store = try await SQLiteIdempotencyStore.open(
            path: directory.path(),
            timeToLive: .seconds(60),
            clock: clock,
            pruning: .init(everyClaims: 5, batchSize: 2)
        )
        for index in 0..<7 { try await store.complete("old-\(index)") }
        clock.advance(by: .seconds(61))
        for index in 0..<4 { #expect(try await store.claim("new-\(index)", lease: lease) == .claimed) }
        #expect(try await store.count() == 11)
        // The fifth claim starts a prune, which goes on batch by batch until the expired rows are gone.
        #expect(try await store.claim("new-4", lease: lease) == .claimed)
        #expect(try await eventualCount(store, 5) == 5)
        await store.close()
    }

    @Test func openingPrunesWhatExpiredWhileClosed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, timeToLive: .seconds(60), clock: VirtualClock())
        for index in 0..<3 { try await store.complete("old-\(index)") }
        await store.close()
        let later = VirtualClock(wallClockOrigin: origin.addingTimeInterval(120))
        let reopened = try await SQLiteIdempotencyStore.open(path: path, timeToLive: .seconds(60), clock: later)
        #expect(try await eventualCount(reopened, 0) == 0)
        await reopened.close()
    }

    // MARK: Concurrency

    @Test func ofFiftyConcurrentClaimsOfOneKeyExactlyOneWins() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        let answers = try await claimConcurrently("order-1", tasks: 50, stores: [store])
        #expect(answers.count == 50)
        #expect(answers.filter { $0 == .claimed }.count == 1)
        #expect(answers.filter { $0 == .inProgress }.count == 49)
        await store.close()
    }

    @Test func twoStoresOnOneFileShareTheirClaims() async throws {
        // Two connections (as two processes would have) race for one key: still exactly one winner.
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let clock = VirtualClock()
        let first = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: clock)
        let second = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: clock)
        let answers = try await claimConcurrently("order-1", tasks: 50, stores: [first, second])
        #expect(answers.filter { $0 == .claimed }.count == 1)
        try await first.complete("order-1")
        #expect(try await second.claim("order-1", lease: lease) == .completed)
        await first.close()
        await second.close()
    }

    @Test func manyKeysClaimedAndCompletedConcurrently() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.path(), clock: VirtualClock())
        let keys = (0..<2_000).map { "order-\($0)" }
        let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
            for key in keys {
                group.addTask {
                    guard try await store.claim(key, lease: lease) == .claimed else { return 0 }
                    try await store.complete(key)
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(claimed == keys.count)
        #expect(try await store.count() == keys.count)
        for key in keys.shuffled().prefix(200) { #expect(try await store.claim(key, lease: lease) == .completed) }
        await store.close()
    }

    // MARK: Restarts

    @Test func closeThenReopenRemembersEveryKey() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await store.claim("done", lease: lease) == .claimed)
        try await store.complete("done")
        #expect(try await store.claim("busy", lease: lease) == .claimed)
        await store.close()
        let reopened = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await reopened.claim("done", lease: lease) == .completed)
        #expect(try await reopened.claim("busy", lease: lease) == .inProgress)
        #expect(try await reopened.claim("new", lease: lease) == .claimed)
        await reopened.close()
    }

    @Test func reopenWithoutCloseRemembersEveryKey() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try await recordAndAbandon(path: path, clock: VirtualClock(), completed: ["done"], claimed: ["busy"])
        let reopened = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await reopened.claim("done", lease: lease) == .completed)
        #expect(try await reopened.claim("busy", lease: lease) == .inProgress)
        await reopened.close()
    }

    @Test func expiriesAreWallClockTimesThatHoldAcrossARestart() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, timeToLive: .seconds(3_600), clock: VirtualClock())
        try await store.complete("done")
        #expect(try await store.claim("busy", lease: .seconds(30)) == .claimed)
        await store.close()

        // A restart 31 seconds later: the crashed holder's lease is over, the completed key is not.
        let soon = VirtualClock(wallClockOrigin: origin.addingTimeInterval(31))
        let restarted = try await SQLiteIdempotencyStore.open(path: path, timeToLive: .seconds(3_600), clock: soon)
        #expect(try await restarted.claim("busy", lease: .seconds(30)) == .claimed)
        #expect(try await restarted.claim("done", lease: lease) == .completed)
        await restarted.close()

        // A restart after the time to live: the key is forgotten.
        let late = VirtualClock(wallClockOrigin: origin.addingTimeInterval(3_601))
        let later = try await SQLiteIdempotencyStore.open(path: path, timeToLive: .seconds(3_600), clock: late)
        #expect(try await later.claim("done", lease: lease) == .claimed)
        await later.close()
    }

    // MARK: Sharing a file with the spool

    @Test(arguments: [true, false])
    func theStoreAndTheSpoolCanShareOneFile(spoolFirst: Bool) async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path("courier.sqlite")
        var spool: SQLiteSpool?
        if spoolFirst { spool = try await SQLiteSpool.open(path: path) }
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        if spool == nil { spool = try await SQLiteSpool.open(path: path) }
        guard let spool else { return }
        _ = try await spool.append(bareEnvelope(1))
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        try await store.complete("order-1")
        _ = try await spool.append(bareEnvelope(2))
        await store.close()
        await spool.close()

        let reopenedSpool = try await SQLiteSpool.open(path: path)
        let reopenedStore = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await reopenedSpool.oldest(limit: 10).map(\.envelope.id) == ["bare-1", "bare-2"])
        #expect(try await reopenedStore.claim("order-1", lease: lease) == .completed)
        #expect(try await reopenedStore.count() == 1)
        await reopenedStore.close()
        await reopenedSpool.close()
        if sqlite3Installed { #expect(try sqlite3(path, "PRAGMA user_version") == "1") }
    }

    // MARK: Bad files and locations

    @Test(arguments: [4_096, 100])
    func aCorruptFileIsAClearStorageFailureNamingThePath(size: Int) async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path("idempotency.sqlite")
        var generator = SplitMix64(seed: UInt64(size) + 7)
        let garbage = Data((0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: CourierError.self) { try await SQLiteIdempotencyStore.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("move it aside") == true, "\(error?.message ?? "")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aPathInAMissingDirectoryIsAClearStorageFailure() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path("no/such/dir/idempotency.sqlite")
        let error = await #expect(throws: CourierError.self) { try await SQLiteIdempotencyStore.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("directory exists") == true, "\(error?.message ?? "")")
    }

    @Test func aDirectoryWhereTheFileShouldBeIsAClearStorageFailure() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = await #expect(throws: CourierError.self) { try await SQLiteIdempotencyStore.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
    }

    @Test(.enabled(if: sqlite3Installed, "needs the sqlite3 command-line tool"))
    func aVersionOneFileIsUpgradedAndKeepsItsKeys() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let now = Int64(origin.timeIntervalSince1970 * 1_000)
        // The table as Courier wrote it before claims had holders.
        _ = try sqlite3(path, """
            CREATE TABLE courier_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE courier_idempotency (key TEXT PRIMARY KEY, state INTEGER NOT NULL CHECK (state IN (0, 1)),
                expires_at_ms INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO courier_schema VALUES ('idempotency', 1);
            INSERT INTO courier_idempotency VALUES ('done', 1, \(now + 3_600_000)), ('held', 0, \(now + 3_600_000));
            """)
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock(wallClockOrigin: origin))
        #expect(try await store.claim("done", lease: lease) == .completed)
        #expect(try await store.claim("held", lease: lease) == .inProgress)
        // An old claim has no holder: only `anyone` frees it.
        try await store.release("held", holder: IdempotencyHolder(token: 5))
        #expect(try await store.claim("held", lease: lease) == .inProgress)
        try await store.release("held", holder: .anyone)
        #expect(try await store.claim("held", lease: lease, holder: IdempotencyHolder(token: 5)) == .claimed)
        await store.close()
        #expect(try sqlite3(path, "SELECT version FROM courier_schema WHERE component = 'idempotency'") == "2")
    }

    @Test(.enabled(if: sqlite3Installed, "needs the sqlite3 command-line tool"))
    func aFileFromANewerSchemaIsAClearStorageFailure() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        await store.close()
        _ = try sqlite3(path, "UPDATE courier_schema SET version = 3 WHERE component = 'idempotency'")
        let error = await #expect(throws: CourierError.self) { try await SQLiteIdempotencyStore.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("newer Courier") == true, "\(error?.message ?? "")")
    }

    // MARK: Close

    @Test func callsAfterCloseThrowClosed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        await store.close()
        let claim = await #expect(throws: CourierError.self) { try await store.claim("order-2", lease: lease) }
        #expect(claim?.code == .closed)
        #expect(claim?.message.contains(path) == true, "\(claim?.message ?? "")")
        let complete = await #expect(throws: CourierError.self) { try await store.complete("order-1") }
        #expect(complete?.code == .closed)
        let release = await #expect(throws: CourierError.self) { try await store.release("order-1") }
        #expect(release?.code == .closed)
        let count = await #expect(throws: CourierError.self) { try await store.count() }
        #expect(count?.code == .closed)
        let prune = await #expect(throws: CourierError.self) { try await store.pruneExpired() }
        #expect(prune?.code == .closed)
        // Closing twice is harmless.
        await store.close()
    }

    @Test func callsInFlightAtCloseEitherLandOrSayClosed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        let keys = (0..<60).map { "order-\($0)" }
        async let outcomes = withTaskGroup(of: (String, CourierError?).self) { group in
            for key in keys {
                group.addTask {
                    do {
                        try await store.complete(key)
                        return (key, nil)
                    } catch {
                        return (key, error as? CourierError ?? CourierError(.fatal, "unexpected \(error)"))
                    }
                }
            }
            var outcomes: [(String, CourierError?)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        await store.close()
        var landed: [String] = []
        for (key, error) in await outcomes {
            if let error { #expect(error.code == .closed, "\(key): \(error)") } else { landed.append(key) }
        }
        // Every complete reported as done really is on disk.
        let reopened = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        for key in landed { #expect(try await reopened.claim(key, lease: lease) == .completed) }
        #expect(try await reopened.count() >= landed.count)
        await reopened.close()
    }

    @Test(.enabled(if: sqlite3Installed, "needs the sqlite3 command-line tool"))
    func aCompletedKeyIsCommittedBeforeCompleteReturns() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try await SQLiteIdempotencyStore.open(path: path, clock: VirtualClock())
        #expect(try await store.claim("order-1", lease: lease) == .claimed)
        try await store.complete("order-1")
        // Another process already sees the row, completed.
        #expect(try sqlite3(path, "SELECT state FROM courier_idempotency WHERE key = 'order-1'") == "1")
        #expect(try sqlite3(path, "PRAGMA journal_mode") == "wal")
        await store.close()
    }
}
