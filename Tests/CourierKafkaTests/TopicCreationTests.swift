import CRDKafka
import Courier
import Testing
@testable import CourierKafka

/// Missing topics are made where the cluster allows it, with the configured partitions, and a clear
/// error says why where it does not. librdkafka 2.0.2's mock cluster has no controller for CreateTopics
/// and creates any topic a metadata request names, so the refusal path is what runs on it end to end.
@Suite("Kafka topic creation")
struct TopicCreationTests {
    @Test("topic-partitions and topic-replication-factor are checked at load time and turn broker auto-creation off")
    func partitionOptions() throws {
        for bad in ["topic-partitions=0", "topic-partitions=many", "topic-replication-factor=0"] {
            let error = #expect(throws: CourierError.self) {
                try KafkaTransportFactory().capabilities(for: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?\(bad)")))
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(String(bad.prefix { $0 != "=" })) == true, "\(error?.message ?? "")")
        }
        let configured = try KafkaProperties(spec: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?topic-partitions=6&topic-replication-factor=3")))
        #expect(configured.topicPartitions == 6 && configured.topicReplicationFactor == 3)
        #expect(configured.producer["allow.auto.create.topics"] == "false")
        let defaults = try KafkaProperties(spec: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092")))
        #expect(defaults.topicPartitions == nil && defaults.topicReplicationFactor == nil)
        #expect(defaults.producer["allow.auto.create.topics"] == "true")
        let off = try KafkaProperties(spec: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?create-topics=false")))
        #expect(off.producer["allow.auto.create.topics"] == "false")
    }

    @Test("CreateTopics answers: created, already there (another client won the race), refused with the reason")
    func creationOutcomes() {
        #expect(RDKafkaTopicCreation.from(RD_KAFKA_RESP_ERR_NO_ERROR, message: "") == .created)
        #expect(RDKafkaTopicCreation.from(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, message: "exists") == .alreadyExists)
        #expect(RDKafkaTopicCreation.from(RD_KAFKA_RESP_ERR_POLICY_VIOLATION, message: "too many partitions")
            == .refused(code: RD_KAFKA_RESP_ERR_POLICY_VIOLATION, message: "too many partitions"))
        guard case .refused(_, let described) = RDKafkaTopicCreation.from(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, message: "") else {
            Issue.record("an authorisation failure must be a refusal")
            return
        }
        #expect(!described.isEmpty, "a refusal without librdkafka's text gets the code's description")
    }

    @Test("a cluster that cannot create the topic with the configured partitions gets a clear error naming them and the reason")
    func refusedWithPartitions() async throws {
        let test = try await KafkaTestCluster.start(topics: ["known": 2])
        // Answer like a cluster without the topic; the mock has no controller, so CreateTopics times out.
        test.cluster.setTopicError("orders-v2", .unknownTopicOrPartition)
        let transport = try await test.transport(["topic-partitions": "6", "request.timeout.ms": "1000"])
        let started = ContinuousClock.now
        let error = await #expect(throws: CourierError.self) {
            try await transport.publish(Envelope(topic: "orders-v2", text: "first"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.code == .unroutable)
        #expect(error?.isRetriable == false)
        #expect(error?.message.contains("orders-v2") == true)
        #expect(error?.message.contains("with 6 partitions") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("controller") == true, "the CreateTopics reason is passed on: \(error?.message ?? "")")
        // The transport keeps working, and the topic is tried again once the cluster has it.
        #expect(try await transport.publish(Envelope(topic: "known", text: "fine")).offset == 0)
        // (The mock made the topic behind the injected error; clearing it is the cluster "having" it.)
        test.cluster.setTopicError("orders-v2", nil)
        #expect(try await transport.publish(Envelope(topic: "orders-v2", text: "second")).topic == "orders-v2")
        await test.close()
    }

    @Test("CreateTopics on the mock cluster is refused (no controller), and reported as such")
    func createTopicsOnTheMock() async throws {
        let test = try await KafkaTestCluster.start()
        let transport = try await test.transport()
        guard let client = transport.producer.currentClient else {
            Issue.record("the started transport has no producer handle")
            return
        }
        let creation = await RDKafkaBlocking.run("test-create-topics") {
            RDKafkaAdmin.createTopic(client.handle, topic: "fresh", partitions: 3, replicationFactor: nil, timeoutMilliseconds: 1000)
        }
        guard case .refused(let code, let message) = creation else {
            Issue.record("librdkafka 2.0.2's mock cluster answered CreateTopics: \(creation); topic creation can now be tested end to end")
            return
        }
        #expect(code == RD_KAFKA_RESP_ERR__TIMED_OUT)
        #expect(message.contains("controller"))
        await test.close()
    }
}
