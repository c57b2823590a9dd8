import Courier

extension AMQPConnectionWorker {
    /// Writes an ack, requeue or reject the settler already accepted. A delivery whose channel was lost
    /// meanwhile is skipped: the broker redelivers it.
    func settleLater(consumerID: Int, tag: UInt64, _ action: SettleAction) {
        guard case .connected(let session) = link, let consumer = consumers[consumerID],
              let entry = consumers[consumerID]?.unsettled.removeValue(forKey: tag) else { return }
        do {
            switch action {
            case .ack: ackBatch[consumerID, default: []].append(entry.channelTag)
            // Redeliveries never come this way (they wait for their copy's confirm); requeue loses nothing.
            case .requeue, .redeliver: try session.nack(consumer.channel, deliveryTag: entry.channelTag, requeue: true)
            case .reject: try session.nack(consumer.channel, deliveryTag: entry.channelTag, requeue: false)
            }
        } catch {
            handleFailure(error, session)
        }
    }

    /// Takes the acks every subscription's settler queued since the last turn (one lock each) and adds
    /// them to the batch `flushAcks` writes. A tag whose channel was lost meanwhile is skipped: the broker
    /// redelivers it.
    func takeQueuedAcks() {
        guard case .connected = link else { return }
        for (consumerID, consumer) in consumers {
            let tags = consumer.request.settler.unsettled.takeAcks()
            guard !tags.isEmpty else { continue }
            lastDeliveryActivity = .now
            var channelTags = ackBatch[consumerID] ?? []
            for tag in tags {
                if let channelTag = consumer.unsettled.removeChannelTag(forKey: tag) { channelTags.append(channelTag) }
            }
            ackBatch[consumerID] = channelTags
        }
    }

    func settle(consumerID: Int, tag: UInt64, _ action: SettleAction, _ continuation: CheckedContinuation<Void, any Error>) {
        guard case .connected(let session) = link, let consumer = consumers[consumerID], let entry = consumer.unsettled[tag],
              !entry.isBeingRedelivered else {
            return continuation.resume(throwing: CourierError(
                .invalidSettlement,
                "delivery \(tag) was already settled, or its channel was lost (the broker will deliver it again)",
                transport: settings.transportName
            ))
        }
        do {
            switch action {
            case .ack:
                try session.ack(consumer.channel, deliveryTag: entry.channelTag)
            case .requeue:
                try session.nack(consumer.channel, deliveryTag: entry.channelTag, requeue: true)
            case .reject:
                try session.nack(consumer.channel, deliveryTag: entry.channelTag, requeue: false)
            case .redeliver(let delay, let headers):
                return try redeliver(consumerID: consumerID, tag: tag, after: delay, headers: headers, continuation, session)
            }
            consumers[consumerID]?.unsettled.removeValue(forKey: tag)
            continuation.resume()
        } catch {
            continuation.resume(throwing: explain(error, while: "settling delivery \(tag) with \(action)"))
            handleFailure(error, session)
        }
    }

    /// Writes the batched acks. Tags below the consumer's lowest unsettled delivery are covered by one
    /// `multiple` ack (everything under it is settled); the others go one by one.
    func flushAcks() {
        guard !ackBatch.isEmpty else { return }
        let batch = ackBatch
        ackBatch.removeAll(keepingCapacity: true)
        guard case .connected(let session) = link else { return }
        do {
            for (consumerID, tags) in batch where !tags.isEmpty {
                guard let consumer = consumers[consumerID] else { continue }
                let floor = consumer.lowestUnsettledChannelTag()
                var coveredCount = 0
                var coveredTop: UInt64 = 0
                for tag in tags where tag < floor {
                    coveredCount += 1
                    coveredTop = max(coveredTop, tag)
                }
                if coveredCount > 0 {
                    try session.ack(consumer.channel, deliveryTag: coveredTop, multiple: coveredCount > 1)
                }
                for tag in tags where tag > floor {
                    try session.ack(consumer.channel, deliveryTag: tag)
                }
            }
        } catch {
            handleFailure(error, session)
        }
    }

    /// Publishes a copy to the consumer queue's retry queue for `delay` (which dead-letters it back when
    /// the TTL expires) and acks the original once the copy is confirmed.
    private func redeliver(
        consumerID: Int, tag: UInt64, after delay: Duration, headers: [String: String],
        _ continuation: CheckedContinuation<Void, any Error>, _ session: RabbitMQSession
    ) throws(RabbitMQFailure) {
        guard let consumer = consumers[consumerID], let entry = consumer.unsettled[tag] else { return continuation.resume() }
        let milliseconds = max(1, delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
        let retryQueue = topology.retryQueue(for: consumer.queue, delayMilliseconds: milliseconds)
        if !declaredRetryQueues.contains(retryQueue) {
            do {
                _ = try session.declareQueue(
                    Self.topologyChannel, name: retryQueue, durable: !consumer.isPrivate, exclusive: false, autoDelete: false,
                    arguments: topology.retryQueueArguments(for: consumer.queue, delayMilliseconds: milliseconds, temporary: consumer.isPrivate)
                )
                declaredRetryQueues.insert(retryQueue)
            } catch where !error.losesConnection {
                continuation.resume(throwing: explain(error, while: "declaring retry queue \"\(retryQueue)\""))
                return try reopenTopologyChannel(session)
            }
        }
        var properties = entry.content.properties
        properties.headers = entry.content.allHeaders
        properties.headers.removeValue(forKey: "x-delivery-count")
        properties.headers.merge(headers) { _, new in new }
        let copy = AMQPOutgoingMessage(exchange: "", routingKey: retryQueue, properties: properties, body: entry.content.body)
        consumers[consumerID]?.unsettled[tag]?.isBeingRedelivered = true
        let generation = consumer.generation
        publish(PendingPublish(message: copy, topic: "") { [weak self] result in
            self?.finishRedelivery(consumerID: consumerID, tag: tag, generation: generation, result, continuation)
        })
    }

    private func finishRedelivery(
        consumerID: Int, tag: UInt64, generation: Int, _ result: Result<Void, CourierError>,
        _ continuation: CheckedContinuation<Void, any Error>
    ) {
        guard let consumer = consumers[consumerID], consumer.generation == generation, let entry = consumer.unsettled[tag] else {
            // The channel was lost: the original comes back by itself, and the copy may exist too.
            return continuation.resume(with: result)
        }
        guard case .success = result else {
            consumers[consumerID]?.unsettled[tag]?.isBeingRedelivered = false
            return continuation.resume(with: result)
        }
        guard case .connected(let session) = link else { return continuation.resume() }
        do {
            try session.ack(consumer.channel, deliveryTag: entry.channelTag)
            consumers[consumerID]?.unsettled.removeValue(forKey: tag)
            continuation.resume()
        } catch {
            continuation.resume(throwing: explain(error, while: "acking delivery \(tag) after scheduling its redelivery"))
            handleFailure(error, session)
        }
    }
}
