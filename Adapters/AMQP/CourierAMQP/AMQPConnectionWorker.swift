import Courier

/// Owns one broker connection and makes every librabbitmq call for it, on its own thread. The async
/// API reaches it only through the ``AMQPMailbox``; results travel back through continuations.
final class AMQPConnectionWorker {
    enum Link {
        /// Not connected yet (start() not called, or its connect failed).
        case idle
        case connected(RabbitMQSession)
        /// Lost; reconnect `attempt` is due at `due`.
        case recovering(attempt: Int, due: ContinuousClock.Instant)
        case closed
    }

    static let publishChannel: UInt16 = 1
    static let topologyChannel: UInt16 = 2

    let settings: AMQPConnectionSettings
    let options: AMQPTransportOptions
    let topology: AMQPTopology
    let mailbox: AMQPMailbox
    let monitor: AMQPConnectionMonitor
    let logger: any CourierLogger

    var link: Link = .idle
    var nextEndpoint = 0

    // Publishing (see +Publishing).
    var nextPublishSequence: UInt64 = 1
    var inFlight: [InFlightPublish] = []
    var backlog: [PendingPublish] = []
    var backlogHead = 0
    var declaredExchanges: [String] = []
    var declaredRetryQueues: Set<String> = []

    // Consuming (see +Consuming).
    /// When deliveries were last handed over or acks taken: while recent, the thread polls for acks.
    var lastDeliveryActivity = ContinuousClock.now - .seconds(3600)
    var consumers: [Int: AMQPConsumer] = [:]
    var consumerByChannel: [UInt16: Int] = [:]
    var nextConsumerChannel: UInt16 = 3
    /// Acks accepted since the last flush, per consumer: written together, with `multiple` where safe.
    var ackBatch: [Int: [UInt64]] = [:]

    // Shutdown: waiters, and how long pending confirms may still take.
    var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    var shutdownDeadline: ContinuousClock.Instant?

    init(settings: AMQPConnectionSettings, options: AMQPTransportOptions, mailbox: AMQPMailbox, monitor: AMQPConnectionMonitor, logger: any CourierLogger) {
        self.settings = settings
        self.options = options
        self.topology = AMQPTopology(options: options)
        self.mailbox = mailbox
        self.monitor = monitor
        self.logger = logger
    }

    /// The thread's body: runs until shutdown.
    func run() {
        while true {
            for command in mailbox.takeAll() { handle(command) }
            writeBacklog()
            takeQueuedAcks()
            flushAcks()
            switch link {
            case .idle:
                mailbox.wait(socket: -1, timeout: .seconds(1))
            case .connected(let session):
                service(session)
                if shutdownDeadline != nil { finishShutdownIfDrained() }
            case .recovering(let attempt, let due):
                recover(attempt: attempt, due: due)
            case .closed:
                mailbox.close()
                return
            }
        }
    }

    private func handle(_ command: AMQPCommand) {
        switch command {
        case .connect(let continuation):
            connect(continuation)
        case .publish(let message, let topic, let continuation):
            publish(PendingPublish(message: message, topic: topic) { result in continuation.resume(with: result) })
        case .subscribe(let request, let continuation):
            subscribe(request, continuation)
        case .settle(let consumerID, let tag, let action, let continuation):
            settle(consumerID: consumerID, tag: tag, action, continuation)
        case .cancel(let consumerID, let continuation):
            cancel(consumerID: consumerID)
            continuation.resume()
        case .shutdown(let continuation):
            beginShutdown(continuation)
        case .settleLater(let consumerID, let tag, let action):
            settleLater(consumerID: consumerID, tag: tag, action)
        case .acksQueued:
            // Taken with every other subscription's after the commands (takeQueuedAcks).
            break
        case .publishBatch(let messages, let continuation):
            publish(batch: messages, continuation)
        case .release:
            if shutdownDeadline == nil { beginShutdown(nil) }
        case .delete(let object, let continuation):
            delete(object, continuation)
        }
    }

    // MARK: Connection

    private var heartbeatPollInterval: Duration {
        settings.heartbeatSeconds > 0 ? min(.milliseconds(settings.heartbeatSeconds * 250), .seconds(1)) : .seconds(1)
    }

    /// While deliveries flow, the thread wakes this often by itself to take acks queued below the settler's
    /// wake-up threshold, instead of being woken for each.
    static let queuedAckDelay: Duration = .milliseconds(2)
    /// How long deliveries count as flowing after the last one was handed over or acked.
    static let flowingWindow: Duration = .milliseconds(100)

    /// Waits for input. While deliveries flow it polls every `queuedAckDelay`; otherwise it parks until
    /// input, a command or a settler's first queued ack (see `AMQPDeliverySettler`) wakes it.
    private func waitForInput(_ session: RabbitMQSession) {
        let flowing = ContinuousClock.now - lastDeliveryActivity < Self.flowingWindow && consumers.values.contains { !$0.unsettled.isEmpty }
        if flowing {
            return mailbox.wait(socket: session.socketDescriptor, timeout: Self.queuedAckDelay)
        }
        mailbox.isParked.store(true, ordering: .sequentiallyConsistent)
        defer { mailbox.isParked.store(false, ordering: .sequentiallyConsistent) }
        // Acks queued before the flag was set woke nobody: take them now instead of parking.
        takeQueuedAcks()
        if !ackBatch.isEmpty {
            return flushAcks()
        }
        mailbox.wait(socket: session.socketDescriptor, timeout: heartbeatPollInterval)
    }

    /// Waits for input, reads every frame ready, and reacts. Also services heartbeats.
    private func service(_ session: RabbitMQSession) {
        if !session.hasBufferedInput {
            waitForInput(session)
            // Flushing acks may have lost the connection.
            guard isCurrent(session) else { return }
        }
        do {
            // A 1 µs (not zero) timeout: librabbitmq then still sends due heartbeats and notices missed ones.
            var handled = 0
            while handled < 1024, let event = try session.nextEvent(timeout: .microseconds(1)) {
                try react(to: event, session)
                handled += 1
                // A reaction may have lost the connection and freed the session.
                guard isCurrent(session) else { return }
            }
            handOverDeliveries()
            session.releaseBuffers()
            try pumpPublishes(session)
        } catch {
            handleFailure(error, session)
        }
    }

    /// Writes the publishes queued by the commands just taken, as far as the confirm window allows.
    private func writeBacklog() {
        guard case .connected(let session) = link, backlogHead < backlog.count else { return }
        do {
            try pumpPublishes(session)
        } catch {
            handleFailure(error, session)
        }
    }

    func isCurrent(_ session: RabbitMQSession) -> Bool {
        if case .connected(let current) = link { return current === session }
        return false
    }

    /// Routes a failure: a lost connection starts recovery, a closed channel is reopened.
    func handleFailure(_ failure: RabbitMQFailure, _ session: RabbitMQSession) {
        guard isCurrent(session) else { return }
        if failure.losesConnection {
            connectionLost(failure)
        } else if case .channelClosed(let channel, _, _) = failure {
            do {
                try channelClosed(channel, failure, session)
            } catch {
                handleFailure(error, session)
            }
        }
    }

    private func connect(_ continuation: CheckedContinuation<Void, any Error>) {
        if case .connected = link { return continuation.resume() }
        var lastError = CourierError.unavailable("no broker host configured", transport: settings.transportName)
        for _ in settings.endpoints {
            let endpoint = settings.endpoints[nextEndpoint % settings.endpoints.count]
            nextEndpoint += 1
            do {
                let session = try openSession(endpoint)
                link = .connected(session)
                monitor.record(.connected(address: session.address))
                logger.info("AMQP connected", metadata: ["transport": settings.transportName, "address": session.address])
                return continuation.resume()
            } catch {
                lastError = error
            }
        }
        continuation.resume(throwing: lastError)
    }

    /// Connects to `endpoint` and opens the publishing and topology channels.
    func openSession(_ endpoint: AMQPEndpoint) throws(CourierError) -> RabbitMQSession {
        let session: RabbitMQSession
        do {
            session = try RabbitMQSession(settings: settings, endpoint: endpoint)
        } catch {
            throw error.courierError(
                address: "\(endpoint.host):\(endpoint.port)", user: settings.user, vhost: settings.vhost, transport: settings.transportName
            )
        }
        do {
            try session.openChannel(Self.publishChannel)
            try session.enableConfirms(Self.publishChannel)
            try session.openChannel(Self.topologyChannel)
            nextPublishSequence = 1
        } catch {
            session.destroy()
            throw explain(error, while: "opening channels on \(session.address)")
        }
        return session
    }

    /// Tears the lost connection down and schedules recovery. Pending confirms have an unknown outcome.
    func connectionLost(_ failure: RabbitMQFailure) {
        guard case .connected(let session) = link else { return }
        session.destroy()
        let reason = failure.summary
        logger.info("AMQP connection lost", metadata: ["transport": settings.transportName, "reason": reason])
        failInFlight(.outcomeUnknown(
            "connection to \(session.address) lost (\(reason)) before the broker confirmed the message; it may be stored, so a resend may duplicate it",
            transport: settings.transportName
        ))
        failBacklog(.unavailable("connection to \(session.address) lost (\(reason)); the message was not sent", transport: settings.transportName))
        declaredRetryQueues.removeAll()
        for consumer in consumers.values {
            consumer.unsettled.removeAll()
            // Read but not handed out: the broker delivers them again.
            consumer.ready.removeAll()
            consumer.readyTags.removeAll()
            consumer.request.settler.unsettled.removeAll()
        }
        monitor.record(.lost(reason: reason))
        if shutdownDeadline != nil {
            link = .idle
            return finishShutdown()
        }
        link = .recovering(attempt: 1, due: .now)
    }

    private func recover(attempt: Int, due: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        guard now >= due else { return mailbox.wait(socket: -1, timeout: min(due - now, .seconds(1))) }
        let endpoint = settings.endpoints[nextEndpoint % settings.endpoints.count]
        nextEndpoint += 1
        do {
            let session = try openSession(endpoint)
            link = .connected(session)
            try restoreTopology(session)
            let restored = try restoreConsumers(session)
            monitor.record(.recovered(address: session.address, attempts: attempt, consumers: restored))
            logger.info("AMQP connection recovered", metadata: ["transport": settings.transportName, "address": session.address, "attempts": String(attempt)])
        } catch {
            if case .connected(let session) = link { session.destroy() }
            let reason = (error as? CourierError)?.message ?? String(describing: error)
            monitor.record(.reconnectFailed(attempt: attempt, reason: reason))
            link = .recovering(attempt: attempt + 1, due: .now + backoff(attempt: attempt))
        }
    }

    /// Exponential backoff with jitter (half to full delay), capped.
    private func backoff(attempt: Int) -> Duration {
        let base = Double(options.reconnectMinMilliseconds) * Double(1 << min(attempt - 1, 20))
        let capped = min(base, Double(options.reconnectMaxMilliseconds))
        return .milliseconds(Int64(capped * Double.random(in: 0.5...1.0)))
    }

    /// Turns a failure during an operation into a user-facing error.
    func explain(_ failure: RabbitMQFailure, while doing: String) -> CourierError {
        let name = settings.transportName
        switch failure.replyCode {
        case AMQPReplyCode.accessRefused:
            return CourierError(.accessRefused, "\(doing): user \"\(settings.user)\" lacks permission (\(failure.summary)); grant it with rabbitmqctl set_permissions", transport: name)
        case AMQPReplyCode.preconditionFailed:
            return CourierError(.invalidConfiguration, "\(doing): the broker refused (\(failure.summary)); an existing exchange or queue has different settings: delete it or match its settings", transport: name)
        case AMQPReplyCode.notFound:
            return CourierError(.invalidConfiguration, "\(doing): \(failure.summary)", transport: name)
        default:
            if failure.losesConnection {
                return .unavailable("\(doing): \(failure.summary)", transport: name)
            }
            return CourierError(.rejected, "\(doing): \(failure.summary)", isRetriable: true, transport: name)
        }
    }

    // MARK: Shutdown

    private func beginShutdown(_ continuation: CheckedContinuation<Void, Never>?) {
        if let continuation { shutdownWaiters.append(continuation) }
        guard case .connected = link else { return finishShutdown() }
        if shutdownDeadline == nil { shutdownDeadline = .now + .seconds(5) }
        finishShutdownIfDrained()
    }

    private func finishShutdownIfDrained() {
        guard let deadline = shutdownDeadline else { return }
        if (inFlight.isEmpty && backlogHead == backlog.count) || ContinuousClock.now >= deadline { finishShutdown() }
    }

    private func finishShutdown() {
        let closed = CourierError.closed("\(settings.transportName) shut down before the broker confirmed the message; it may be stored", transport: settings.transportName)
        var unknown = closed
        unknown.mayDuplicate = true
        failInFlight(unknown)
        failBacklog(.closed("\(settings.transportName) shut down; the message was not sent", transport: settings.transportName))
        // Acks accepted before the shutdown still reach the broker.
        takeQueuedAcks()
        flushAcks()
        for consumer in consumers.values { consumer.request.continuation.finish() }
        consumers.removeAll()
        consumerByChannel.removeAll()
        if case .connected(let session) = link { session.close() }
        link = .closed
        monitor.record(.closed)
        let waiters = shutdownWaiters
        shutdownWaiters.removeAll()
        waiters.forEach { $0.resume() }
    }
}
