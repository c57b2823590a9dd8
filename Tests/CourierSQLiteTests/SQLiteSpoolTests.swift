import Courier
import CourierSQLite
import Foundation
import Testing

/// What one concurrent append came to.
private enum Outcome: Sendable {
    case stored(id: String, sequence: Int64)
    case refused(id: String, CourierError)
}

private func appendAll(_ envelopes: [Envelope], to spool: SQLiteSpool) async -> [Outcome] {
    await withTaskGroup(of: Outcome.self) { group in
        for envelope in envelopes {
            group.addTask {
                do {
                    return .stored(id: envelope.id, sequence: try await spool.append(envelope))
                } catch let error as CourierError {
                    return .refused(id: envelope.id, error)
                } catch {
                    return .refused(id: envelope.id, CourierError(.fatal, "unexpected \(error)"))
                }
            }
        }
        var outcomes: [Outcome] = []
        for await outcome in group { outcomes.append(outcome) }
        return outcomes
    }
}

/// Opens a spool at `path`, appends `envelopes` one after another and lets the spool go without
/// calling close(), as a process that dies would.
private func appendAndAbandon(_ envelopes: [Envelope], path: String) async throws -> [Int64] {
    let spool = try await SQLiteSpool.open(path: path)
    var sequences: [Int64] = []
    for envelope in envelopes { sequences.append(try await spool.append(envelope)) }
    return sequences
}

private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

@Suite("SQLiteSpool", .timeLimit(.minutes(1)))
struct SQLiteSpoolTests {
    // MARK: Append, read, remove

    @Test func appendAndOldestRoundTripEveryFieldInFIFOOrder() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let envelopes = [
            fullEnvelope(1),
            bareEnvelope(2),
            fullEnvelope(3, payload: Array(0...255)),
            {
                var envelope = Envelope(topic: "t", text: "{\"k\": \"v\"}", id: "text-4", headers: ["a": "1"])
                envelope.timestamp = Date(timeIntervalSince1970: 1_760_000_000.5)
                return envelope
            }(),
            fullEnvelope(5),
        ]
        var sequences: [Int64] = []
        for envelope in envelopes { sequences.append(try await spool.append(envelope)) }
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count == envelopes.count)

        let stored = try await spool.oldest(limit: 100)
        #expect(stored.map(\.sequence) == sequences)
        #expect(stored.map(\.envelope.id) == envelopes.map(\.id))
        for (message, original) in zip(stored, envelopes) {
            let envelope = message.envelope
            #expect(envelope.idempotencyKey == original.idempotencyKey)
            #expect(envelope.topic == original.topic)
            #expect(envelope.orderingKey == original.orderingKey)
            #expect(envelope.priority == original.priority)
            #expect(envelope.headers == original.headers)
            #expect(envelope.payload == original.payload)
            #expect(envelope.contentType == original.contentType)
            #expect(milliseconds(envelope.timestamp) == milliseconds(original.timestamp))
            #expect(envelope.correlationID == original.correlationID)
        }
        // Timestamps with whole milliseconds come back exactly, so the envelopes are equal outright.
        #expect(stored.map(\.envelope) == envelopes)
        await spool.close()
    }

    @Test func oldestReturnsAtMostTheLimitOldestFirst() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        for index in 0..<10 { _ = try await spool.append(bareEnvelope(index)) }
        #expect(try await spool.oldest(limit: 3).map(\.envelope.id) == ["bare-0", "bare-1", "bare-2"])
        #expect(try await spool.oldest(limit: 1).map(\.envelope.id) == ["bare-0"])
        #expect(try await spool.oldest(limit: 50).count == 10)
        // Reading does not consume.
        #expect(try await spool.oldest(limit: 3).map(\.envelope.id) == ["bare-0", "bare-1", "bare-2"])
        await spool.close()
    }

    @Test func timestampsAreKeptToTheMillisecond() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let instants = [0, 1_750_000_000.001, 1_750_000_000.999, 1_750_000_000.1234, 4_102_444_800.5]
        for (index, instant) in instants.enumerated() {
            var envelope = bareEnvelope(index)
            envelope.timestamp = Date(timeIntervalSince1970: instant)
            _ = try await spool.append(envelope)
        }
        let stored = try await spool.oldest(limit: 10).map { milliseconds($0.envelope.timestamp) }
        #expect(stored == [0, 1_750_000_000_001, 1_750_000_000_999, 1_750_000_000_123, 4_102_444_800_500])
        await spool.close()
    }

    @Test func anEmptyPayloadIsSpooledAndDoesNotSpoilItsBatch() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let empty = Envelope(topic: "pings", payload: [], id: "empty")
        _ = try await spool.append(empty)
        // Concurrent appends share one transaction: an empty payload among them must not fail the rest.
        let batch = [bareEnvelope(1), Envelope(topic: "pings", payload: [], id: "empty-2"), bareEnvelope(3)]
        let outcomes = await appendAll(batch, to: spool)
        for outcome in outcomes {
            if case .refused(let id, let error) = outcome { Issue.record("\(id) refused: \(error)") }
        }
        let stored = try await spool.oldest(limit: 10)
        #expect(stored.count == 4)
        #expect(stored.first?.envelope.payload == [])
        #expect(Set(stored.map(\.envelope.id)) == ["empty", "bare-1", "empty-2", "bare-3"])
        #expect(try await spool.depth() == SpoolDepth(messages: 4, bytes: 8))
        await spool.close()
    }

    @Test func removeDeletesExactlyThatMessage() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        var sequences: [Int64] = []
        for index in 0..<4 { sequences.append(try await spool.append(bareEnvelope(index, bytes: 10))) }
        try await spool.remove(sequence: sequences[1])
        #expect(try await spool.oldest(limit: 10).map(\.envelope.id) == ["bare-0", "bare-2", "bare-3"])
        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 30))
        // Removing twice, or a sequence that never existed, changes nothing.
        try await spool.remove(sequence: sequences[1])
        try await spool.remove(sequence: 9_999)
        try await spool.remove(sequence: -1)
        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 30))
        // Draining in order empties it.
        for message in try await spool.oldest(limit: 10) { try await spool.remove(sequence: message.sequence) }
        #expect(try await spool.oldest(limit: 10).isEmpty)
        #expect(try await spool.depth() == SpoolDepth(messages: 0, bytes: 0))
        await spool.close()
    }

    @Test func removeSeveralAtOnceDeletesExactlyThoseAndSurvivesReopen() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        var sequences: [Int64] = []
        for index in 0..<6 { sequences.append(try await spool.append(bareEnvelope(index, bytes: 10))) }
        // Known and unknown sequences mixed, one of them twice: only the known ones go, once.
        try await spool.remove(sequences: [sequences[0], sequences[2], 9_999, sequences[2], sequences[5]])
        try await spool.remove(sequences: [])
        #expect(try await spool.oldest(limit: 10).map(\.envelope.id) == ["bare-1", "bare-3", "bare-4"])
        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 30))
        await spool.close()
        let reopened = try await SQLiteSpool.open(path: directory.path())
        #expect(try await reopened.oldest(limit: 10).map(\.envelope.id) == ["bare-1", "bare-3", "bare-4"])
        #expect(try await reopened.depth() == SpoolDepth(messages: 3, bytes: 30))
        await reopened.close()
    }

    @Test func depthCountsMessagesAndPayloadBytes() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        #expect(try await spool.depth() == SpoolDepth(messages: 0, bytes: 0))
        _ = try await spool.append(bareEnvelope(1, bytes: 100))
        _ = try await spool.append(bareEnvelope(2, bytes: 1))
        let big = try await spool.append(bareEnvelope(3, bytes: 65_536))
        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 65_637))
        try await spool.remove(sequence: big)
        #expect(try await spool.depth() == SpoolDepth(messages: 2, bytes: 101))
        await spool.close()
    }

    @Test func sequencesKeepGrowingAfterTheNewestIsRemoved() async throws {
        // The relay must never see a new message take an old message's place in line.
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let first = try await spool.append(bareEnvelope(1))
        let second = try await spool.append(bareEnvelope(2))
        try await spool.remove(sequence: second)
        let third = try await spool.append(bareEnvelope(3))
        #expect(third > second && second > first)
        await spool.close()
    }

    // MARK: Group commit

    @Test func concurrentAppendsGetDistinctIncreasingSequences() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let envelopes = (0..<200).map { fullEnvelope($0) }
        let outcomes = await appendAll(envelopes, to: spool)
        var sequenceOf: [String: Int64] = [:]
        for outcome in outcomes {
            switch outcome {
            case .stored(let id, let sequence): sequenceOf[id] = sequence
            case .refused(let id, let error): Issue.record("\(id) refused: \(error)")
            }
        }
        #expect(sequenceOf.count == 200)
        #expect(Set(sequenceOf.values).count == 200)
        #expect(Set(sequenceOf.values) == Set(1...200))

        let stored = try await spool.oldest(limit: 1_000)
        #expect(stored.count == 200)
        #expect(stored.map(\.sequence) == stored.map(\.sequence).sorted())
        // Every caller was told the sequence its own message was stored under, and nothing got mixed up.
        let byID = Dictionary(uniqueKeysWithValues: envelopes.map { ($0.id, $0) })
        for message in stored {
            #expect(sequenceOf[message.envelope.id] == message.sequence)
            #expect(byID[message.envelope.id] == message.envelope)
        }
        // One task appending after another sees its sequences rise.
        var previous: Int64 = 200
        for index in 200..<210 {
            let sequence = try await spool.append(bareEnvelope(index))
            #expect(sequence > previous)
            previous = sequence
        }
        await spool.close()
    }

    // MARK: Limits

    @Test func maxMessagesAnswersWithBackpressureAndLosesNothing() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let spool = try await SQLiteSpool.open(path: path, limits: SQLiteSpool.Limits(maxMessages: 3, maxBytes: 1 << 20))
        for index in 0..<3 { _ = try await spool.append(bareEnvelope(index)) }
        let error = await #expect(throws: CourierError.self) { try await spool.append(bareEnvelope(3)) }
        #expect(error?.code == .backpressure)
        #expect(error?.isRetriable == true)
        #expect(error?.isFatal == false)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("full") == true)
        #expect(error?.message.contains("bare-3") == true)
        #expect(error?.message.contains("spool.maxMessages") == true)
        #expect(error?.message.contains("Slow down") == true)

        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 12))
        #expect(try await spool.oldest(limit: 10).map(\.envelope) == (0..<3).map { bareEnvelope($0) })
        // Room again once the relay removes one.
        let first = try #require(try await spool.oldest(limit: 1).first)
        try await spool.remove(sequence: first.sequence)
        _ = try await spool.append(bareEnvelope(3))
        #expect(try await spool.oldest(limit: 10).map(\.envelope.id) == ["bare-1", "bare-2", "bare-3"])
        await spool.close()
    }

    @Test func maxBytesAnswersWithBackpressureAndLosesNothing() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path(), limits: SQLiteSpool.Limits(maxMessages: 100, maxBytes: 10))
        _ = try await spool.append(bareEnvelope(1, bytes: 6))
        let error = await #expect(throws: CourierError.self) { try await spool.append(bareEnvelope(2, bytes: 5)) }
        #expect(error?.code == .backpressure)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("spool.maxBytes") == true)
        // Exactly up to the limit is fine.
        _ = try await spool.append(bareEnvelope(3, bytes: 4))
        #expect(try await spool.depth() == SpoolDepth(messages: 2, bytes: 10))
        #expect(try await spool.oldest(limit: 10).map(\.envelope) == [bareEnvelope(1, bytes: 6), bareEnvelope(3, bytes: 4)])
        // A single message larger than the whole limit is refused outright.
        await #expect(throws: CourierError.self) { try await spool.append(bareEnvelope(4, bytes: 11)) }
        await spool.close()
    }

    @Test func concurrentAppendsIntoALimitedSpoolStoreExactlyTheLimit() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path(), limits: SQLiteSpool.Limits(maxMessages: 5, maxBytes: 1 << 20))
        let outcomes = await appendAll((0..<40).map { bareEnvelope($0) }, to: spool)
        var stored: [String: Int64] = [:]
        var refused = 0
        for outcome in outcomes {
            switch outcome {
            case .stored(let id, let sequence): stored[id] = sequence
            case .refused(let id, let error):
                #expect(error.code == .backpressure, "\(id): \(error)")
                refused += 1
            }
        }
        #expect(stored.count == 5)
        #expect(refused == 35)
        let kept = try await spool.oldest(limit: 100)
        #expect(Set(kept.map(\.envelope.id)) == Set(stored.keys))
        #expect(kept.map(\.sequence) == stored.values.sorted())
        await spool.close()
    }

    @Test func limitsApplyToWhatAnEarlierRunLeft() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        _ = try await appendAndAbandon((0..<3).map { bareEnvelope($0) }, path: path)
        let spool = try await SQLiteSpool.open(path: path, limits: SQLiteSpool.Limits(maxMessages: 3, maxBytes: 1 << 20))
        #expect(try await spool.depth() == SpoolDepth(messages: 3, bytes: 12))
        let error = await #expect(throws: CourierError.self) { try await spool.append(bareEnvelope(3)) }
        #expect(error?.code == .backpressure)
        #expect(try await spool.oldest(limit: 10).count == 3)
        await spool.close()
    }

    // MARK: Crash and restart

    @Test func closeThenReopenReadsEverythingBackInOrder() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let envelopes = (0..<20).map { fullEnvelope($0) }
        let first = try await SQLiteSpool.open(path: path)
        var sequences: [Int64] = []
        for envelope in envelopes { sequences.append(try await first.append(envelope)) }
        try await first.remove(sequence: sequences[0])
        await first.close()

        let second = try await SQLiteSpool.open(path: path)
        let stored = try await second.oldest(limit: 100)
        #expect(stored.map(\.sequence) == Array(sequences.dropFirst()))
        #expect(stored.map(\.envelope) == Array(envelopes.dropFirst()))
        #expect(try await second.depth() == SpoolDepth(messages: 19, bytes: envelopes.dropFirst().reduce(0) { $0 + $1.payload.count }))
        // New messages queue up behind the old ones.
        let next = try await second.append(bareEnvelope(99))
        #expect(next > sequences.last!)
        await second.close()
    }

    @Test func reopenWithoutCloseReadsEverythingBackInOrder() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let envelopes = (0..<20).map { fullEnvelope($0) }
        let sequences = try await appendAndAbandon(envelopes, path: path)

        let spool = try await SQLiteSpool.open(path: path)
        let stored = try await spool.oldest(limit: 100)
        #expect(stored.map(\.sequence) == sequences)
        #expect(stored.map(\.envelope) == envelopes)
        #expect(try await spool.append(bareEnvelope(99)) > sequences.last!)
        await spool.close()
    }

    @Test func theFilesAKilledProcessLeavesBehindHoldEveryConfirmedAppend() async throws {
        // While the writer is still open, its database and write-ahead log are exactly what a kill -9
        // would leave on disk. Copy them (not the shared-memory index) and open the copy.
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let crashed = directory.path("crashed.sqlite")
        let envelopes = (0..<25).map { fullEnvelope($0) }
        let spool = try await SQLiteSpool.open(path: path)
        var sequences: [Int64] = []
        for envelope in envelopes { sequences.append(try await spool.append(envelope)) }
        #expect(exists(path + "-wal"))
        try FileManager.default.copyItem(atPath: path, toPath: crashed)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: crashed + "-wal")

        let restarted = try await SQLiteSpool.open(path: crashed)
        let stored = try await restarted.oldest(limit: 100)
        #expect(stored.map(\.sequence) == sequences)
        #expect(stored.map(\.envelope) == envelopes)
        await restarted.close()
        await spool.close()
    }

    // MARK: Bad files and locations

    @Test(arguments: [4_096, 100, 16])
    func aCorruptFileIsAClearErrorAtOpenAndIsLeftAlone(size: Int) async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        var generator = SplitMix64(seed: UInt64(size))
        let garbage = Data((0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))

        let error = await #expect(throws: CourierError.self) { try await SQLiteSpool.open(path: path) }
        #expect(error?.code == CourierError.Code("storage-failure"))
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("move it aside") == true, "\(error?.message ?? "")")
        #expect(error?.isRetriable == false)
        // The operator's data is not touched.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aTextFileIsAClearErrorAtOpen() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try Data(String(repeating: "this is not a database\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: CourierError.self) { try await SQLiteSpool.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("move it aside") == true)
    }

    @Test func anEmptyExistingFileBecomesAFreshSpool() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let spool = try await SQLiteSpool.open(path: path)
        _ = try await spool.append(bareEnvelope(1))
        #expect(try await spool.oldest(limit: 5).map(\.envelope.id) == ["bare-1"])
        await spool.close()
    }

    @Test(.enabled(if: sqlite3Installed, "needs the sqlite3 command-line tool"))
    func aFileFromANewerSchemaIsAClearErrorAtOpen() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        _ = try await appendAndAbandon([bareEnvelope(1)], path: path)
        _ = try sqlite3(path, "PRAGMA user_version = 2")
        let error = await #expect(throws: CourierError.self) { try await SQLiteSpool.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("newer Courier") == true)
    }

    @Test func aPathInAMissingDirectoryIsAClearErrorAtOpen() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path("no/such/dir/spool.sqlite")
        let error = await #expect(throws: CourierError.self) { try await SQLiteSpool.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("directory exists") == true, "\(error?.message ?? "")")
        #expect(!exists(directory.path("no")))
    }

    @Test func aDirectoryWhereTheFileShouldBeIsAClearErrorAtOpen() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = await #expect(throws: CourierError.self) { try await SQLiteSpool.open(path: path) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
    }

    // MARK: Close

    @Test func callsAfterCloseThrowClosed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let spool = try await SQLiteSpool.open(path: directory.path())
        let sequence = try await spool.append(bareEnvelope(1))
        await spool.close()
        let append = await #expect(throws: CourierError.self) { try await spool.append(bareEnvelope(2)) }
        #expect(append?.code == .closed)
        #expect(append?.message.contains(directory.path()) == true)
        let oldest = await #expect(throws: CourierError.self) { try await spool.oldest(limit: 1) }
        #expect(oldest?.code == .closed)
        let remove = await #expect(throws: CourierError.self) { try await spool.remove(sequence: sequence) }
        #expect(remove?.code == .closed)
        let depth = await #expect(throws: CourierError.self) { try await spool.depth() }
        #expect(depth?.code == .closed)
        // Closing twice is harmless.
        await spool.close()
    }

    @Test func closeReleasesTheFile() async throws {
        // Once the last connection closes, SQLite checkpoints the write-ahead log into the database and
        // deletes it: proof that close() let go of the file, not merely of the thread.
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let spool = try await SQLiteSpool.open(path: path)
        _ = try await spool.append(bareEnvelope(1))
        #expect(exists(path + "-wal"))
        await spool.close()
        #expect(!exists(path + "-wal"))
        #expect(spool.path == path)
    }

    @Test func appendsInFlightAtCloseEitherLandOrSayClosed() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let spool = try await SQLiteSpool.open(path: path)
        let envelopes = (0..<60).map { bareEnvelope($0) }
        async let outcomes = appendAll(envelopes, to: spool)
        await spool.close()
        var stored: [String: Int64] = [:]
        for outcome in await outcomes {
            switch outcome {
            case .stored(let id, let sequence): stored[id] = sequence
            case .refused(let id, let error): #expect(error.code == .closed, "\(id): \(error)")
            }
        }
        // Every append reported as stored really is on disk.
        let reopened = try await SQLiteSpool.open(path: path)
        let kept = try await reopened.oldest(limit: 100)
        #expect(Set(kept.map(\.envelope.id)) == Set(stored.keys))
        await reopened.close()
    }

    // MARK: On disk

    @Test func theFileIsInWriteAheadLogMode() async throws {
        let directory = try SpoolDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let spool = try await SQLiteSpool.open(path: path)
        _ = try await spool.append(bareEnvelope(1))
        _ = try await spool.append(bareEnvelope(2))
        #expect(exists(path + "-wal"))
        if sqlite3Installed {
            #expect(try sqlite3(path, "PRAGMA journal_mode") == "wal")
            // Committed before append returned: another process already sees both rows.
            #expect(try sqlite3(path, "SELECT count(*) FROM courier_spool") == "2")
            #expect(try sqlite3(path, "PRAGMA user_version") == "1")
        }
        await spool.close()
    }
}
