import Courier

/// Names and arguments of the exchanges and queues a transport declares.
struct AMQPTopology: Sendable {
    var options: AMQPTransportOptions

    /// Group queue `T.G`.
    func groupQueue(topic: String, group: String) -> String { "\(topic).\(group)" }

    /// Binding key for group queues: everything published to the topic.
    var bindingKey: String { options.exchangeType == "topic" ? "#" : "" }

    /// Arguments of a group queue.
    var groupQueueArguments: [(key: String, value: AMQPFieldValue)] {
        var arguments: [(key: String, value: AMQPFieldValue)] = []
        if options.queueType == "quorum" { arguments.append(("x-queue-type", .string("quorum"))) }
        if options.maxPriority > 0 { arguments.append(("x-max-priority", .int(Int64(options.maxPriority)))) }
        return arguments
    }

    /// The retry queue that holds messages of `queue` for `delay` and dead-letters them back to it.
    /// Server-named queues (`amq.gen-...`) cannot prefix a name, so theirs start with `courier.retry.`.
    func retryQueue(for queue: String, delayMilliseconds: Int64) -> String {
        queue.hasPrefix("amq.") ? "courier.retry.\(queue).\(delayMilliseconds)ms" : "\(queue).retry.\(delayMilliseconds)ms"
    }

    func retryQueueArguments(for queue: String, delayMilliseconds: Int64, temporary: Bool) -> [(key: String, value: AMQPFieldValue)] {
        var arguments: [(key: String, value: AMQPFieldValue)] = [
            ("x-message-ttl", .int(delayMilliseconds)),
            ("x-dead-letter-exchange", .string("")),
            ("x-dead-letter-routing-key", .string(queue)),
        ]
        // A private subscription's retry queue goes away a minute after its last use.
        if temporary { arguments.append(("x-expires", .int(delayMilliseconds + 60_000))) }
        return arguments
    }
}
