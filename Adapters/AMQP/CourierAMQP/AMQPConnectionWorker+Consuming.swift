import Courier

extension AMQPConnectionWorker {
    func subscribe(_ request: AMQPConsumerRequest, _ continuation: CheckedContinuation<Void, any Error>) {
        guard shutdownDeadline == nil, case .connected(let session) = link else {
            return continuation.resume(throwing: CourierError.unavailable(
                "\(settings.transportName) is not connected; subscribe again once it has recovered", transport: settings.transportName
            ))
        }
        let consumer = AMQPConsumer(request: request, channel: allocateConsumerChannel(), transport: settings.transportName)
        do {
            try start(consumer, session)
            consumers[request.id] = consumer
            consumerByChannel[consumer.channel] = request.id
            continuation.resume()
        } catch {
            let explained = explain(error, while: "subscribing to topic \"\(request.subscription.topic)\"")
            continuation.resume(throwing: explained)
            if !error.losesConnection, case .channelClosed(let channel, _, _) = error, channel == Self.topologyChannel {
                do { try reopenTopologyChannel(session) } catch { handleFailure(error, session) }
            } else if error.losesConnection {
                connectionLost(error)
            }
        }
    }

    private func allocateConsumerChannel() -> UInt16 {
        // Channels are not reused while frames for a cancelled consumer may still be queued.
        if nextConsumerChannel >= 2000 { nextConsumerChannel = 3 }
        while consumerByChannel[nextConsumerChannel] != nil { nextConsumerChannel += 1 }
        defer { nextConsumerChannel += 1 }
        return nextConsumerChannel
    }

    /// Declares the topic and the consumer's queue, opens its channel and starts consuming.
    func start(_ consumer: AMQPConsumer, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        let topic = consumer.subscription.topic
        if !declaredExchanges.contains(topic) {
            try declareTopic(topic, session)
            declaredExchanges.append(topic)
        }
        let queue: String
        if let group = consumer.subscription.group {
            queue = try declareGroupQueue(topic: topic, group: group, session)
        } else {
            queue = try session.declareQueue(Self.topologyChannel, name: "", durable: false, exclusive: true, autoDelete: true, arguments: [])
            try session.bindQueue(Self.topologyChannel, queue: queue, exchange: topic, bindingKey: topology.bindingKey)
        }
        try session.openChannel(consumer.channel)
        try session.setPrefetch(consumer.channel, count: consumer.subscription.prefetch)
        consumer.consumerTag = try session.consume(consumer.channel, queue: queue)
        consumer.queue = queue
        consumer.generation += 1
        consumer.unsettled.removeAll()
        // Deliveries of the old channel not handed out yet: the broker delivers them again.
        consumer.ready.removeAll()
        consumer.readyTags.removeAll()
        consumer.request.settler.unsettled.removeAll()
    }

    /// Re-subscribes every consumer after a reconnect; returns how many came back. A consumer the broker
    /// refuses ends with an error; losing the connection again throws, and the next attempt starts over.
    func restoreConsumers(_ session: RabbitMQSession) throws(RabbitMQFailure) -> Int {
        var restored = 0
        for id in consumers.keys.sorted() {
            guard let consumer = consumers[id] else { continue }
            do {
                try start(consumer, session)
                restored += 1
            } catch {
                if error.losesConnection { throw error }
                end(consumerID: id, with: explain(error, while: "re-subscribing to topic \"\(consumer.subscription.topic)\" after reconnecting"))
                if case .channelClosed(Self.topologyChannel, _, _) = error { try? reopenTopologyChannel(session) }
            }
        }
        return restored
    }

    /// Ends a subscription with an error (its stream throws ``CourierError/Code/subscriptionLost``).
    func end(consumerID: Int, with error: CourierError) {
        guard let consumer = consumers[consumerID] else { return }
        // What was read before the end still reaches the subscriber, as it did before the batching.
        handOver(consumer)
        consumers.removeValue(forKey: consumerID)
        consumerByChannel.removeValue(forKey: consumer.channel)
        var lost = error
        lost.code = .subscriptionLost
        consumer.request.continuation.finish(throwing: lost)
    }

    /// The caller closed the subscription: cancel it and close its channel, so unsettled deliveries go back.
    func cancel(consumerID: Int) {
        guard consumers[consumerID] != nil else { return }
        // Acks accepted before the close go out first, or the broker would deliver those messages again.
        takeQueuedAcks()
        flushAcks()
        guard let consumer = consumers.removeValue(forKey: consumerID) else { return }
        consumerByChannel.removeValue(forKey: consumer.channel)
        consumer.request.continuation.finish()
        guard case .connected(let session) = link else { return }
        do {
            try session.cancel(consumer.channel, consumerTag: consumer.consumerTag)
            try session.closeChannel(consumer.channel)
        } catch where !error.losesConnection {
            // The channel is gone already; nothing is left to cancel.
        } catch {
            connectionLost(error)
        }
    }

    func deliver(channel: UInt16, _ info: AMQPDeliveryInfo, _ content: AMQPIncomingContent) {
        guard let id = consumerByChannel[channel], let consumer = consumers[id] else { return }
        let tag = consumer.nextTag
        consumer.nextTag += 1
        consumer.unsettled.insert(AMQPConsumer.Unsettled(channelTag: info.deliveryTag, content: content), forTag: tag)
        let envelope = AMQPEnvelopeMapping.envelope(topic: consumer.subscription.topic, content: content, info: info)
        let delivery = Delivery(
            envelope: envelope,
            deliveryCount: AMQPEnvelopeMapping.deliveryCount(content: content, info: info),
            source: consumer.source,
            tag: tag,
            settler: consumer.request.settler
        )
        consumer.ready.append(delivery)
        consumer.readyTags.append(tag)
        // While the broker keeps streaming, hand over part-way rather than when the socket runs dry, so the
        // subscriber works (and acks) while the rest is read.
        if consumer.ready.count >= Self.handOverLimit { handOver(consumer) }
    }

    /// The most deliveries held back for one hand-over.
    static let handOverLimit = 64

    /// Hands every delivery read in this turn of the loop to the subscribers: one lock and one wake-up
    /// per subscription and batch, not per message.
    func handOverDeliveries() {
        for consumer in consumers.values where !consumer.ready.isEmpty { handOver(consumer) }
    }

    private func handOver(_ consumer: AMQPConsumer) {
        guard !consumer.ready.isEmpty else { return }
        lastDeliveryActivity = .now
        // Marked unsettled before the subscriber can see (and settle) them.
        consumer.request.settler.unsettled.insert(contentsOf: consumer.readyTags)
        // A stream that has ended refuses them; its close cancels the channel, so the broker redelivers.
        consumer.request.continuation.yield(contentsOf: consumer.ready)
        consumer.ready.removeAll(keepingCapacity: true)
        consumer.readyTags.removeAll(keepingCapacity: true)
    }

    /// The broker cancelled a consumer (its queue was deleted, say).
    func consumerCancelled(channel: UInt16, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        guard let id = consumerByChannel[channel] else { return }
        end(consumerID: id, with: CourierError(.subscriptionLost, "the broker cancelled the subscription (its queue was deleted?); subscribe again", transport: settings.transportName))
        try? session.closeChannel(channel)
    }

    /// The broker closed a consumer's channel (an invalid ack, say): resubscribe on a fresh channel.
    func consumerChannelClosed(_ channel: UInt16, _ failure: RabbitMQFailure, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        guard let id = consumerByChannel[channel], let consumer = consumers[id] else { return }
        logger.info("AMQP consumer channel closed; resubscribing", metadata: ["topic": consumer.subscription.topic, "reason": failure.summary])
        do {
            try start(consumer, session)
        } catch where !error.losesConnection {
            end(consumerID: id, with: explain(error, while: "re-subscribing to topic \"\(consumer.subscription.topic)\""))
        }
    }
}
