import Foundation

/// One scenario's run: its directory, topic and child processes, the faults it injected, and the
/// waits between them. Every child is stopped by ``tearDown()``, which the driver calls on every path.
actor ScenarioRun {
    let environment: ChaosEnvironment
    let number: Int
    let size: ChaosSize
    let directory: String
    let topic: String
    let group = "chaos"
    let rabbitMQ: RabbitMQNode
    private(set) var faults: [FaultRecord] = []
    private(set) var notes: [String] = []
    private(set) var kafka: KafkaMockProcess?
    private var children: [ChildProcess] = []
    private var spawned = 0

    init(environment: ChaosEnvironment, number: Int, size: ChaosSize) throws {
        self.environment = environment
        self.number = number
        self.size = size
        let stamp = Int(Date().timeIntervalSince1970)
        directory = "\(environment.workDirectory)/scenario-\(number)-\(size.rawValue)-\(stamp)"
        topic = "chaos-s\(number)-\(stamp)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        rabbitMQ = RabbitMQNode(repositoryRoot: environment.repositoryRoot, port: environment.rabbitMQPort, logPath: directory + "/rabbitmq.log")
    }

    func note(_ text: String) { notes.append(text) }

    // MARK: Brokers

    /// The RabbitMQ transport spec for workers; `heartbeat` in seconds.
    func rabbitMQSpec(heartbeat: Int = 10) -> String {
        "rabbitmq=\(rabbitMQ.url)?declare-groups=\(group)&heartbeat=\(heartbeat)&reconnect-max-ms=1000"
    }

    /// Starts a Kafka mock cluster with this run's topic.
    func startKafka(brokers: Int = 3) async throws -> KafkaMockProcess {
        let cluster = try await KafkaMockProcess(executable: environment.executable, brokers: brokers, topic: topic, logPath: directory + "/kafka-mock.log")
        kafka = cluster
        return cluster
    }

    /// The Kafka transport spec for workers. The message timeout bounds how long a publish waits for a
    /// down cluster before the producer moves on (librdkafka waits 10 s by Courier's default).
    func kafkaSpec() throws -> String {
        guard let kafka else { throw ChaosError("start the Kafka mock cluster first") }
        return "kafka=\(kafka.url)?message.timeout.ms=\(Self.kafkaMessageTimeoutMilliseconds)"
    }

    /// librdkafka's `message.timeout.ms` for chaos producers: a publish to a cluster that is down fails
    /// after this. The producer's default retry policy makes up to 3 attempts before it fails over, so
    /// failover takes about 3 × this (librdkafka's default, 10 s in Courier, would take 30 s).
    static let kafkaMessageTimeoutMilliseconds = 300

    // MARK: Workers

    /// Starts a producer process publishing `count` messages with ids `prefix-0...`.
    @discardableResult
    func startProducer(transports: [String], count: Int, rate: Int, prefix: String, concurrency: Int = 8) throws -> ChildProcess {
        var arguments = ["chaos-worker", "produce", "--dir", directory, "--topic", topic, "--count", String(count), "--rate", String(rate)]
        arguments += ["--concurrency", String(concurrency), "--id-prefix", prefix]
        for transport in transports { arguments += ["--transport", transport] }
        return try spawn("producer", arguments)
    }

    /// Starts a consumer process in this run's group over `transports`.
    @discardableResult
    func startConsumer(transports: [String], concurrency: Int = 8, prefetch: Int = 64, workMilliseconds: Int = 0) throws -> ChildProcess {
        var arguments = ["chaos-worker", "consume", "--dir", directory, "--topic", topic, "--group", group]
        arguments += ["--concurrency", String(concurrency), "--prefetch", String(prefetch), "--work-ms", String(workMilliseconds)]
        for transport in transports { arguments += ["--transport", transport] }
        return try spawn("consumer", arguments)
    }

    private func spawn(_ role: String, _ arguments: [String]) throws -> ChildProcess {
        spawned += 1
        let child = try ChildProcess(
            name: "\(role) \(spawned)", executable: environment.executable, arguments: arguments,
            logPath: "\(directory)/\(role)-\(spawned).log"
        )
        children.append(child)
        return child
    }

    /// Waits for a producer to finish on its own; throws if it fails or overruns `deadline`.
    func waitForProducer(_ producer: ChildProcess, deadline: Duration) async throws {
        let status = await producer.wait(deadline: deadline)
        guard let status else { throw ChaosError("\(producer.name) did not finish within \(deadline) (log: \(producer.logPath))") }
        guard status == 0 else { throw ChaosError("\(producer.name) exited with status \(status) (log: \(producer.logPath))") }
    }

    // MARK: Faults

    /// Records a fault that began at `start` and was undone at `end` (wall-clock milliseconds).
    func recordFault(_ kind: String, start: Int64, end: Int64?, takesPrimaryDown: Bool) {
        faults.append(FaultRecord(kind: kind, startedAtMilliseconds: start, endedAtMilliseconds: end, takesPrimaryDown: takesPrimaryDown))
    }

    // MARK: Progress

    /// Waits until every message the producer took responsibility for has been consumed, then
    /// `settle` more for late duplicates. Throws when nothing moves for `inactivity`.
    func waitForConsumption(inactivity: Duration = .seconds(60), settle: Duration = .seconds(2)) async throws {
        let reader = LedgerReader(directory: directory)
        var lastCount = -1
        var lastProgress = ContinuousClock.now
        while true {
            try checkKafkaAlive()
            let waiting = try reader.unconsumedCount()
            if waiting == 0 { break }
            if waiting != lastCount {
                lastCount = waiting
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > inactivity {
                throw ChaosError("consumption stalled with \(waiting) confirmed message(s) not consumed for \(inactivity)")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        try await Task.sleep(for: settle)
    }

    /// Waits until the consumer has run a message that came through `transport`: its subscription (for
    /// Kafka: its consumer group) is settled, so faults hit a steady state, not the start-up.
    ///
    /// Why for Kafka: librdkafka 2.0.2's mock cluster aborts (assertion `!member->resp` in
    /// rd_kafka_mock_cgrp_member_sync_set) when its brokers go down while a group's SyncGroup is pending.
    func waitUntilConsuming(from transport: String, deadline: Duration = .seconds(90)) async throws {
        let reader = LedgerReader(directory: directory)
        let giveUp = ContinuousClock.now + deadline
        while try reader.consumedCount(through: transport) == 0 {
            try checkKafkaAlive()
            guard ContinuousClock.now < giveUp else { throw ChaosError("the consumer ran no message from \(transport) within \(deadline)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Throws when the Kafka mock cluster died: its data (in memory) is gone, so no count would mean anything.
    func checkKafkaAlive() throws {
        guard let kafka, !kafka.child.isRunning else { return }
        let log = (try? String(contentsOfFile: kafka.child.logPath, encoding: .utf8)) ?? ""
        let cause = log.split(separator: "\n").first { $0.contains("Assertion") || $0.contains("error") }.map(String.init) ?? "no cause in its log"
        throw ChaosError("the Kafka mock cluster (courier kafka-mock) died during the run: \(cause)")
    }

    /// Messages consumed so far.
    func consumedCount() throws -> Int { try LedgerReader(directory: directory).consumedCount() }

    /// Messages in the producer's spool (spooled, not yet drained).
    func spoolBacklog() throws -> Int { try LedgerReader(directory: directory).spoolBacklog() }

    /// Whether `child` is still running.
    func isRunning(_ child: ChildProcess) -> Bool { child.isRunning }

    // MARK: Ending

    /// Stops every child process and the Kafka cluster (the RabbitMQ node is the driver's).
    func tearDown() async {
        for child in children.reversed() { await child.stop(grace: .seconds(15)) }
        children = []
        await kafka?.stop()
        kafka = nil
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
