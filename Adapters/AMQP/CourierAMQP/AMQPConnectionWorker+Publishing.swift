import Courier

/// A publish not yet written to the socket (the confirm window is full).
struct PendingPublish {
    var message: AMQPOutgoingMessage
    /// The exchange to declare before the first publish to it; empty for the default exchange.
    var topic: String
    var completion: (Result<Void, CourierError>) -> Void
}

/// A publish written and awaiting its confirm.
struct InFlightPublish {
    var sequence: UInt64
    var messageID: String?
    var completion: (Result<Void, CourierError>) -> Void
    /// Set when the broker returned it as unroutable; its ack follows the return.
    var returned: AMQPReturnInfo?
}

/// Collects the outcomes of one `publishBatch` and resumes its caller once, when the last one is known.
/// Lives on the connection thread only.
final class AMQPPublishBatch {
    private var outcomes: [Result<Void, CourierError>?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<Void, CourierError>], Never>

    init(count: Int, _ continuation: CheckedContinuation<[Result<Void, CourierError>], Never>) {
        outcomes = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
        if count == 0 { continuation.resume(returning: []) }
    }

    func settle(_ index: Int, _ outcome: Result<Void, CourierError>) {
        guard outcomes[index] == nil else { return }
        outcomes[index] = outcome
        remaining -= 1
        if remaining == 0 {
            // Every slot is set by now; the fallback only keeps this free of a force unwrap.
            continuation.resume(returning: outcomes.map { $0 ?? .failure(.outcomeUnknown("the publish ended without an outcome")) })
        }
    }
}

extension AMQPConnectionWorker {
    /// Queues every message for its exchange, pipelined under the confirm window like single publishes.
    func publish(batch messages: [AMQPOutgoingMessage], _ continuation: CheckedContinuation<[Result<Void, CourierError>], Never>) {
        let batch = AMQPPublishBatch(count: messages.count, continuation)
        for (index, message) in messages.enumerated() {
            publish(PendingPublish(message: message, topic: message.exchange) { batch.settle(index, $0) })
        }
    }

    /// Queues a publish, or fails it at once when it cannot be sent. The run loop writes the backlog after
    /// taking every command, so publishes posted together leave together (corked, see pumpPublishes).
    func publish(_ pending: PendingPublish) {
        guard shutdownDeadline == nil else {
            return pending.completion(.failure(.closed("\(settings.transportName) is shutting down", transport: settings.transportName)))
        }
        guard case .connected(let session) = link else {
            let state = if case .recovering(let attempt, _) = link { "reconnecting (attempt \(attempt))" } else { "not connected" }
            return pending.completion(.failure(.unavailable("\(settings.transportName) is \(state); the message was not sent", transport: settings.transportName)))
        }
        let headerBytes = RabbitMQTable.encodedSize(pending.message.properties.headers)
        if headerBytes + 1024 > session.frameMax {
            return pending.completion(.failure(CourierError(
                .messageTooLarge,
                "message \(pending.message.properties.messageID ?? "") has about \(headerBytes) bytes of headers; AMQP headers must fit in one frame (\(session.frameMax) bytes). Move data to the payload or shorten the headers",
                transport: settings.transportName
            )))
        }
        backlog.append(pending)
    }

    /// Writes waiting publishes while the confirm window has room.
    func pumpPublishes(_ session: RabbitMQSession) throws(RabbitMQFailure) {
        // Several publishes at once go out corked: full segments, not three small ones per message.
        let corked = min(options.confirmWindow - inFlight.count, backlog.count - backlogHead) > 1 && session.setCorked(true)
        defer { if corked { session.setCorked(false) } }
        while inFlight.count < options.confirmWindow, backlogHead < backlog.count {
            let pending = backlog[backlogHead]
            backlogHead += 1
            try write(pending, session)
        }
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogHead = 0
        }
    }

    private func write(_ pending: PendingPublish, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        if !pending.topic.isEmpty, !declaredExchanges.contains(pending.topic) {
            // The declare is a round trip: its request must not wait in a corked socket.
            session.setCorked(false)
            do {
                try declareTopic(pending.topic, session)
                declaredExchanges.append(pending.topic)
            } catch where !error.losesConnection {
                pending.completion(.failure(explain(error, while: "declaring exchange \"\(pending.topic)\"")))
                try reopenTopologyChannel(session)
                return
            }
        }
        // Counted before the write: if the write fails half-way the outcome is unknown, and
        // connectionLost reports it so.
        inFlight.append(InFlightPublish(sequence: nextPublishSequence, messageID: pending.message.properties.messageID, completion: pending.completion))
        nextPublishSequence += 1
        try session.publish(Self.publishChannel, pending.message, mandatory: true)
    }

    /// Declares topic exchange `topic` and the queues of the groups named in `declare-groups`.
    func declareTopic(_ topic: String, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        try session.declareExchange(Self.topologyChannel, name: topic, type: options.exchangeType)
        for group in options.declaredGroups {
            _ = try declareGroupQueue(topic: topic, group: group, session)
        }
    }

    func declareGroupQueue(topic: String, group: String, _ session: RabbitMQSession) throws(RabbitMQFailure) -> String {
        let queue = topology.groupQueue(topic: topic, group: group)
        _ = try session.declareQueue(
            Self.topologyChannel, name: queue, durable: true, exclusive: false, autoDelete: false, arguments: topology.groupQueueArguments
        )
        try session.bindQueue(Self.topologyChannel, queue: queue, exchange: topic, bindingKey: topology.bindingKey)
        return queue
    }

    func reopenTopologyChannel(_ session: RabbitMQSession) throws(RabbitMQFailure) {
        try session.openChannel(Self.topologyChannel)
    }

    /// Re-declares every exchange (and declared group queue) after a reconnect.
    func restoreTopology(_ session: RabbitMQSession) throws(RabbitMQFailure) {
        for topic in declaredExchanges {
            do {
                try declareTopic(topic, session)
            } catch where !error.losesConnection {
                logger.info("AMQP could not re-declare exchange", metadata: ["exchange": topic, "reason": error.summary])
                try reopenTopologyChannel(session)
            }
        }
    }

    /// Settles confirms up to `tag` (or just `tag`).
    /// `inFlight` is in sequence order, so the settled entries are a prefix (with `multiple`) or one entry,
    /// removed in one step rather than one shift of the array per confirm.
    func confirm(upTo tag: UInt64, multiple: Bool, acknowledged: Bool) {
        let settled: [InFlightPublish]
        if multiple {
            let count = inFlight.firstIndex { $0.sequence > tag } ?? inFlight.count
            guard count > 0 else { return }
            settled = Array(inFlight[..<count])
            inFlight.removeFirst(count)
        } else {
            guard let index = inFlight.firstIndex(where: { $0.sequence >= tag }), inFlight[index].sequence == tag else { return }
            settled = [inFlight.remove(at: index)]
        }
        for entry in settled { entry.completion(outcome(of: entry, acknowledged: acknowledged)) }
    }

    private func outcome(of entry: InFlightPublish, acknowledged: Bool) -> Result<Void, CourierError> {
        let name = settings.transportName
        if let returned = entry.returned {
            return .failure(CourierError(
                .unroutable,
                "message \(entry.messageID ?? "") published to exchange \"\(returned.exchange)\" with routing key \"\(returned.routingKey)\" reached no queue (\(returned.replyCode) \(returned.replyText)); subscribe a group first or declare its queue with the declare-groups option",
                transport: name
            ))
        }
        if !acknowledged {
            return .failure(CourierError(.rejected, "the broker refused message \(entry.messageID ?? "") (basic.nack); it was not stored, resending is safe", isRetriable: true, transport: name))
        }
        return .success(())
    }

    /// Marks the oldest unconfirmed publish with this message id as returned.
    func markReturned(_ info: AMQPReturnInfo, messageID: String?) {
        if let index = inFlight.firstIndex(where: { $0.returned == nil && $0.messageID == messageID }) {
            inFlight[index].returned = info
        }
    }

    func failInFlight(_ error: CourierError) {
        let failed = inFlight
        inFlight.removeAll()
        for entry in failed { entry.completion(.failure(error)) }
    }

    func failBacklog(_ error: CourierError) {
        let failed = backlog[backlogHead...]
        backlog.removeAll()
        backlogHead = 0
        for entry in failed { entry.completion(.failure(error)) }
    }
}
