/// How the delay between retries is randomised, after the AWS Architecture Blog's "Exponential Backoff
/// and Jitter" formulas.
public enum Jitter: String, Sendable, Hashable, CaseIterable {
    /// No randomness: `min(maximum, initial * multiplier^(retry-1))`. Synchronised clients retry in waves.
    case none
    /// Uniform in `0...exponential`: spreads retries best, occasionally retries almost at once.
    case full
    /// `exponential/2 + uniform(0...exponential/2)`: never shorter than half the exponential delay.
    case equal
    /// `min(maximum, uniform(initial...previous*3))`: each delay grows from the previous one.
    case decorrelated
}

/// Exponential backoff with a cap and a choice of ``Jitter``.
public struct Backoff: Sendable, Hashable {
    /// The base delay (the first retry's upper bound).
    public var initial: Duration
    /// Growth per retry; 2 doubles.
    public var multiplier: Double
    /// No delay is longer than this.
    public var maximum: Duration
    public var jitter: Jitter

    public init(initial: Duration = .milliseconds(50), multiplier: Double = 2, maximum: Duration = .seconds(2), jitter: Jitter = .full) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The exponential delay before retry number `retry` (1-based), before jitter, capped at ``maximum``.
    public func exponential(retry: Int) -> Duration {
        let seconds = initial.seconds * pow(multiplier, Double(max(0, retry - 1)))
        return seconds >= maximum.seconds || !seconds.isFinite ? maximum : .seconds(seconds)
    }

    /// The delay before retry number `retry` (1-based). `previous` is the last delay (decorrelated
    /// jitter grows from it; `nil` on the first retry).
    public func delay(retry: Int, previous: Duration?, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = exponential(retry: retry)
        switch jitter {
        case .none:
            return ceiling
        case .full:
            return .seconds(Double.random(in: 0...ceiling.seconds, using: &generator))
        case .equal:
            let half = ceiling.seconds / 2
            return .seconds(half + Double.random(in: 0...half, using: &generator))
        case .decorrelated:
            let low = initial.seconds
            let high = max(low, (previous ?? initial).seconds * 3)
            return .seconds(min(maximum.seconds, Double.random(in: low...high, using: &generator)))
        }
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result.isFinite {
        result *= base
        remaining -= 1
    }
    return result
}
