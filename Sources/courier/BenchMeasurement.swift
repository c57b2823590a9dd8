import Foundation
import Synchronization

/// CPU time (user + system, all threads) this process has used so far, in nanoseconds.
func processCPUNanoseconds() -> Double {
    var usage = rusage()
    guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
    func nanoseconds(_ time: timeval) -> Double { Double(time.tv_sec) * 1e9 + Double(time.tv_usec) * 1e3 }
    return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
}

/// Receives the CPU time of the round `nanosecondsPerMessage` timed, so rounds keep returning wall time only.
final class CPUTimeRecorder: Sendable {
    private let perMessage = Mutex<Double?>(nil)
    /// Bound by the runner around one round.
    @TaskLocal static var current: CPUTimeRecorder?

    func record(_ nanosecondsPerMessage: Double) { perMessage.withLock { $0 = nanosecondsPerMessage } }
    var value: Double? { perMessage.withLock { $0 } }
}

/// Runs `body` and returns the wall time it took per message, in nanoseconds; the CPU time per message goes
/// to the bound ``CPUTimeRecorder`` (only the timed body counts, not a round's setup).
func nanosecondsPerMessage(_ messages: Int, _ body: () async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let cpuBefore = processCPUNanoseconds()
    let started = clock.now
    try await body()
    let wall = (clock.now - started).seconds * 1e9 / Double(max(1, messages))
    CPUTimeRecorder.current?.record((processCPUNanoseconds() - cpuBefore) / Double(max(1, messages)))
    return wall
}

/// Median, min and max of a set of samples.
struct Spread: Codable, Sendable, Equatable {
    let median: Double
    let min: Double
    let max: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        if sorted.isEmpty {
            median = 0
        } else if sorted.count % 2 == 1 {
            median = sorted[sorted.count / 2]
        } else {
            median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// The `q`-quantile (0...1) of `values` by the nearest-rank method.
func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[Swift.min(sorted.count, Swift.max(1, rank)) - 1]
}

/// The live progress line on standard error, rewritten in place.
struct BenchProgress {
    let sink: any OutputSink
    let isEnabled: Bool

    func update(_ text: String) {
        guard isEnabled else { return }
        sink.write("\r\u{1B}[K[bench] " + text)
    }

    func finish() {
        guard isEnabled else { return }
        sink.write("\r\u{1B}[K")
    }
}
