import CRDKafka
import Courier

/// Turns a delivery report into a publish outcome, from `rd_kafka_message_status`:
/// persisted → confirmed; not persisted → the broker does not have it, resending is safe (retriable
/// unless the error is permanent); possibly persisted → outcome unknown, a resend may duplicate.
enum KafkaDeliveryOutcome {
    static func error(
        for report: RDKafkaDeliveryReport, messageID: @autoclosure () -> String, topic: @autoclosure () -> String, transport: String
    ) -> CourierError? {
        if report.error == RD_KAFKA_RESP_ERR_NO_ERROR || report.status == RD_KAFKA_MSG_STATUS_PERSISTED { return nil }
        let messageID = messageID()
        let topic = topic()
        let reason = "\(RDKafkaError.describe(report.error)) (\(RDKafkaError.name(report.error)))"
        if report.status == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED {
            return CourierError.outcomeUnknown(
                "Kafka may have stored message \(messageID) on topic \(topic) but did not confirm it: \(reason); resending may duplicate it",
                transport: transport
            )
        }
        let permanent = RDKafkaError.isPermanent(report.error)
        var advice = "it is safe to resend"
        if permanent { advice = "resending will not help" }
        if report.error == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT { advice = "no broker took it within message.timeout.ms; it is safe to resend" }
        return CourierError(
            RDKafkaError.courierCode(report.error),
            "Kafka did not store message \(messageID) on topic \(topic): \(reason); \(advice)",
            isRetriable: !permanent,
            transport: transport
        )
    }
}
