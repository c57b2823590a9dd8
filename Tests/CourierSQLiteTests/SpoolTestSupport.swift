import Courier
import CourierSQLite
import Foundation

/// A fresh directory under the system's temporary directory. Tests remove it in a `defer`, which also
/// keeps it alive to the end of the test (an optimised build may end a local's lifetime at its last use).
struct SpoolDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("courier-spool-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    func path(_ name: String = "spool.sqlite") -> String { url.appendingPathComponent(name).path }
}

/// An envelope with every optional field set, distinct per `index`.
func fullEnvelope(_ index: Int, payload: [UInt8]? = nil) -> Envelope {
    Envelope(
        topic: "orders.created",
        payload: payload ?? Array("order \(index) \u{e9}\u{1F4E6}".utf8) + [0, 255, UInt8(index % 256)],
        id: "message-\(index)",
        idempotencyKey: "order-\(index)",
        orderingKey: "customer-\(index % 3)",
        priority: UInt8(index % 10),
        headers: [
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tenant": "acme \u{2603}",
            "empty": "",
            "index": "\(index)",
        ],
        contentType: "application/json; charset=utf-8",
        timestamp: Date(timeIntervalSince1970: 1_750_000_000.123 + Double(index)),
        correlationID: "request-\(index)"
    )
}

/// An envelope with only the required fields.
func bareEnvelope(_ index: Int, bytes: Int = 4) -> Envelope {
    Envelope(
        topic: "t",
        payload: Array(repeating: UInt8(truncatingIfNeeded: index), count: bytes),
        id: "bare-\(index)",
        timestamp: Date(timeIntervalSince1970: 1_700_000_000)
    )
}

/// Milliseconds since 1970, as the spool stores them.
func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000).rounded()) }

/// Runs the sqlite3 command-line tool on `path` and returns its trimmed output.
func sqlite3(_ path: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [path, sql]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try ChildProcessLaunch.run { try process.run() }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

var sqlite3Installed: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") }
