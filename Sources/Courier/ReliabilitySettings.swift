/// Where the durable spool lives and how much it may hold. `nil` path: no spool.
public struct SpoolSettings: Sendable, Hashable {
    /// The SQLite file.
    public var path: String
    public var maxMessages: Int
    /// Payload bytes.
    public var maxBytes: Int

    public init(path: String, maxMessages: Int = 100_000, maxBytes: Int = 256 << 20) {
        self.path = path
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    public static let pathVariable = "COURIER_SPOOL"
}

/// Reads the `retry`, `breaker` and `spool` sections of the configuration file.
enum ReliabilitySections {
    static let retryFields: Set<String> = [
        "maxAttempts", "deadlineMs", "initialBackoffMs", "maxBackoffMs", "multiplier", "jitter", "budgetTokens", "budgetRatio",
        "attemptTimeoutMs",
    ]
    static let breakerFields: Set<String> = [
        "windowType", "windowSize", "failureRateThreshold", "slowCallRateThreshold", "slowCallDurationMs", "minimumCalls",
        "openDurationMs", "openDurationMultiplier", "maximumOpenDurationMs", "permittedCallsInHalfOpen",
    ]
    static let spoolFields: Set<String> = ["path", "maxMessages", "maxBytes"]

    static let hour = 3_600_000

    static func retry(_ value: JSONValue, field: String, into configuration: inout ProducerConfiguration) throws(CourierError) {
        let reader = try JSONObjectReader(value, field: field, known: retryFields)
        var retry = configuration.retry
        if let attempts = try reader.integer("maxAttempts", in: 1...1000) { retry.maxAttempts = attempts }
        if let deadline = try reader.milliseconds("deadlineMs", in: 1...hour) { retry.deadline = deadline }
        if let initial = try reader.milliseconds("initialBackoffMs", in: 1...hour) { retry.backoff.initial = initial }
        if let maximum = try reader.milliseconds("maxBackoffMs", in: 1...hour) { retry.backoff.maximum = maximum }
        if let multiplier = try reader.number("multiplier", in: 1...100) { retry.backoff.multiplier = multiplier }
        if let jitter = try reader.string("jitter", oneOf: Jitter.allCases.map(\.rawValue)), let mode = Jitter(rawValue: jitter) {
            retry.backoff.jitter = mode
        }
        if retry.backoff.maximum < retry.backoff.initial {
            throw CourierError.configuration(field: "\(field).maxBackoffMs", "is shorter than initialBackoffMs; the cap must be at least the first delay")
        }
        configuration.retry = retry
        if let tokens = try reader.number("budgetTokens", in: 1...1_000_000) { configuration.retryBudgetTokens = tokens }
        if let ratio = try reader.number("budgetRatio", in: 0...1000) { configuration.retryBudgetRatio = ratio }
        if let timeout = try reader.milliseconds("attemptTimeoutMs", in: 1...hour) { configuration.attemptTimeout = timeout }
    }

    static func breaker(_ value: JSONValue, field: String, into configuration: inout ProducerConfiguration) throws(CourierError) {
        let reader = try JSONObjectReader(value, field: field, known: breakerFields)
        var breaker = configuration.breaker
        let type = try reader.string("windowType", oneOf: ["count", "time"])
        if let size = try reader.integer("windowSize", in: 1...100_000) {
            breaker.window = type == "time" ? .time(seconds: size) : .count(size)
        } else if type == "time" {
            breaker.window = .time(seconds: 10)
        }
        if let value = try reader.number("failureRateThreshold", in: 0...100) { breaker.failureRateThreshold = value }
        if let value = try reader.number("slowCallRateThreshold", in: 0...100) { breaker.slowCallRateThreshold = value }
        if let value = try reader.milliseconds("slowCallDurationMs", in: 1...hour) { breaker.slowCallDuration = value }
        if let value = try reader.integer("minimumCalls", in: 1...100_000) { breaker.minimumCalls = value }
        if let value = try reader.milliseconds("openDurationMs", in: 1...hour) { breaker.openDuration = value }
        if let value = try reader.number("openDurationMultiplier", in: 1...100) { breaker.openDurationMultiplier = value }
        if let value = try reader.milliseconds("maximumOpenDurationMs", in: 1...(24 * hour)) { breaker.maximumOpenDuration = value }
        if let value = try reader.integer("permittedCallsInHalfOpen", in: 1...10_000) { breaker.permittedCallsInHalfOpen = value }
        try breaker.validate(field: field)
        configuration.breaker = breaker
    }

    static func spool(_ value: JSONValue, field: String) throws(CourierError) -> SpoolSettings {
        let reader = try JSONObjectReader(value, field: field, known: spoolFields)
        guard let path = try reader.string("path") else {
            throw CourierError.configuration(field: "\(field).path", "is missing; name the SQLite file the spool keeps messages in")
        }
        var settings = SpoolSettings(path: path)
        if let value = try reader.integer("maxMessages", in: 1...100_000_000) { settings.maxMessages = value }
        if let value = try reader.integer("maxBytes", in: 1...(1 << 40)) { settings.maxBytes = value }
        return settings
    }
}
