import Courier
import Foundation

/// The demo's counts; `--json` prints them as one object.
struct DemoReport: Codable, Sendable {
    var published = 0
    var confirmed = 0
    var failedOver = 0
    var spooled = 0
    var drainedFromSpool = 0
    var retried = 0
    var consumed = 0
    var duplicatesDropped = 0
    var redelivered = 0
    /// Handler re-runs within a delivery.
    var retriedByHandler = 0
    var deadLettered = 0
    /// Messages whose effect happened more than once (must be 0).
    var duplicateEffects = 0
    /// Confirmed or spooled, but never handled.
    var lost = 0
    /// Handled, but never published.
    var unexpected = 0
    var failedBack = false
    var elapsedMilliseconds = 0

    var isOK: Bool { lost == 0 && unexpected == 0 && duplicateEffects == 0 && published == confirmed + spooled }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func table(primary: String, secondary: String, spoolPath: String) -> [String] {
        func row(_ label: String, _ value: String) -> String {
            "  " + label.padding(toLength: 20, withPad: " ", startingAt: 0) + value
        }
        return [
            "Courier demo: \(primary) (primary) and \(secondary) (fallback), spool \(spoolPath)",
            row("published", "\(published)"),
            row("confirmed", "\(confirmed) (\(failedOver) by the fallback after the primary's breaker opened)"),
            row("retried", "\(retried) publish attempts retried (injected failures, outages)"),
            row("spooled", "\(spooled) while every transport was down"),
            row("drained from spool", "\(drainedFromSpool) relayed in order once a transport was back"),
            row("failed back", failedBack ? "yes, to the primary once its breaker closed" : "no"),
            row("consumed", "\(consumed) messages handled, from both transports"),
            row("handler retries", "\(retriedByHandler) immediate retries after transient failures"),
            row("redelivered", "\(redelivered) delayed redeliveries (attempt count in the courier-attempt header)"),
            row("dead-lettered", "\(deadLettered) (the poison message, to orders.dlq with fault headers)"),
            row("duplicates dropped", "\(duplicatesDropped) (injected duplicate, lost confirm resent on failover; by idempotency key)"),
            row("duplicate effects", "\(duplicateEffects)"),
            row("lost", "\(lost)"),
            row("unexpected", "\(unexpected)"),
            row("elapsed", "\(elapsedMilliseconds) ms"),
            isOK ? "Result: OK, every published message was handled exactly once or dead-lettered." : "Result: FAILED",
        ]
    }
}
