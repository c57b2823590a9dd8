import Foundation

/// Builds the dead-letter copy of a message: the original payload and headers unchanged, plus the
/// `courier-fault-*` headers (see docs/headers.md).
public enum DeadLetter {
    /// The dead-letter envelope for `delivery` failing with `error`.
    public static func envelope(
        for delivery: Delivery,
        error: any Error,
        reason: String,
        attempts: Int,
        topic: String,
        messageBudget: Int,
        failedAt: Date,
        firstFailedAt: String? = nil
    ) -> Envelope {
        var copy = delivery.envelope
        copy.topic = topic
        let source = delivery.source
        var fault: [String: String] = [
            CourierHeader.faultReason: reason,
            CourierHeader.faultErrorType: String(reflecting: type(of: error)),
            CourierHeader.faultMessage: truncate(String(describing: error), toBytes: messageBudget),
            CourierHeader.faultTopic: source.topic,
            CourierHeader.faultAttempts: String(attempts),
            CourierHeader.faultFailedAt: ISO8601DateFormatter().string(from: failedAt),
            CourierHeader.faultHost: ProcessInfo.processInfo.hostName,
            CourierHeader.faultTransport: Redaction.scrub(source.transport),
        ]
        let failedAtText = ISO8601DateFormatter().string(from: failedAt)
        fault[CourierHeader.faultFirstFailedAt] = firstFailedAt ?? failedAtText
        if let partition = source.partition { fault[CourierHeader.faultPartition] = String(partition) }
        if let offset = source.offset { fault[CourierHeader.faultOffset] = String(offset) }
        if let group = source.group { fault[CourierHeader.faultConsumerGroup] = group }
        copy.headers.merge(fault) { _, new in new }
        return copy
    }

    /// `text` cut to at most `budget` UTF-8 bytes on a character boundary, marked when cut.
    public static func truncate(_ text: String, toBytes budget: Int) -> String {
        guard text.utf8.count > budget else { return text }
        let marker = "…[truncated]"
        let room = max(0, budget - marker.utf8.count)
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > room { break }
            result.append(character)
            used += size
        }
        return result + marker
    }
}
