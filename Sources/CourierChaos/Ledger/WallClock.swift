import Foundation

/// Milliseconds since 1970: every process of a run stamps ledger rows with it, so rows written by the
/// driver, the producer and the consumer (all on one machine) compare directly.
enum WallClock {
    static func milliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
