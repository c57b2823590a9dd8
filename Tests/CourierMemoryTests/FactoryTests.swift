import Courier
import CourierMemory
import Testing

@Suite("Memory transport: factory and registry", .timeLimit(.minutes(1)))
struct FactoryTests {
    let brokers = MemoryBrokers()
    var registry: TransportRegistry { TransportRegistry([MemoryTransportFactory(brokers: brokers)]) }

    private func memoryTransport(_ url: String, context: TransportContext = TransportContext()) throws -> MemoryTransport {
        try #require(try registry.makeTransport(url: url, context: context) as? MemoryTransport)
    }

    private func configurationError(_ url: String, options: [String: String] = [:]) -> CourierError? {
        do {
            let spec = TransportSpec(url: try TransportURL(url), options: options)
            _ = try registry.makeTransport(spec)
            Issue.record("\(url) was accepted")
        } catch let error as CourierError {
            return error
        } catch {
            Issue.record("\(url) threw \(error)")
        }
        return nil
    }

    @Test func theMemorySchemeIsRegistered() {
        #expect(registry.schemes == ["memory"])
        #expect(registry.factory(for: "MEMORY") != nil)
    }

    @Test func optionsAreParsedFromTheURL() throws {
        let transport = try memoryTransport("memory://parsed?capacity=5&max-deliveries=2&max-message-bytes=64")
        #expect(transport.broker.name == "parsed")
        #expect(transport.broker.options == MemoryBrokerOptions(capacity: 5, maxDeliveries: 2, maxMessageBytes: 64))
        #expect(transport.name == "memory://parsed?capacity=5&max-deliveries=2&max-message-bytes=64")
        #expect(transport.capabilities.maxMessageBytes == 64)
    }

    @Test func defaultsApplyWithoutOptions() throws {
        let transport = try memoryTransport("memory://plain")
        #expect(transport.broker.options == MemoryBrokerOptions())
        #expect(transport.broker.options.capacity == 10_000)
        #expect(transport.broker.options.maxDeliveries == 10)
        #expect(transport.broker.options.maxMessageBytes == 4 << 20)
    }

    @Test func specOptionsOverrideTheQueryAndNameTheTransport() throws {
        let spec = TransportSpec(url: try TransportURL("memory://spec?capacity=5"), name: "primary", options: ["capacity": "7"])
        let transport = try #require(try registry.makeTransport(spec) as? MemoryTransport)
        #expect(transport.broker.options.capacity == 7)
        #expect(transport.name == "primary")
    }

    @Test func capabilitiesAreReportedWithoutMakingABroker() throws {
        let capabilities = try registry.capabilities(for: TransportSpec(url: try TransportURL("memory://probe?max-message-bytes=100")))
        #expect(capabilities.consumerGroups)
        #expect(capabilities.orderingPerKey)
        #expect(capabilities.priorities)
        #expect(capabilities.persistence)
        #expect(!capabilities.exactlyOnceDelivery)
        #expect(capabilities.nativeDelayedDelivery)
        #expect(!capabilities.nativeDeadLettering)
        #expect(capabilities.maxMessageBytes == 100)
        #expect(brokers.existingBroker(named: "probe") == nil)
    }

    @Test func unknownOptionIsNamed() {
        let error = configurationError("memory://x?capcity=5")
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("unknown option \"capcity\"") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("capacity, max-deliveries, max-message-bytes") == true)
    }

    @Test(arguments: ["capacity=0", "capacity=abc", "capacity=", "max-deliveries=0", "max-message-bytes=-1", "capacity=10000001"])
    func badValueIsNamed(query: String) {
        let error = configurationError("memory://x?\(query)")
        let key = String(query.prefix { $0 != "=" })
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("option \(key)=") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("whole number") == true)
    }

    @Test(arguments: ["memory://x:5672", "memory://x/path", "memory://user@x", "memory://user:secret@x", "memory://a,b", "memory://"])
    func aMemoryURLNamesOneBrokerAndNothingElse(url: String) {
        let error = configurationError(url)
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("a memory URL names one broker and nothing else") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("secret") == false)
    }

    @Test func twoTransportsOnOneNameShareTheBroker() async throws {
        #expect(brokers.existingBroker(named: "shared") == nil)
        let publisher = try memoryTransport("memory://shared")
        let consumer = try memoryTransport("memory://shared")
        #expect(publisher.broker === consumer.broker)
        #expect(brokers.existingBroker(named: "shared") === publisher.broker)
        #expect(try memoryTransport("memory://other").broker !== publisher.broker)

        try await publisher.start()
        try await consumer.start()
        var deliveries = try await consumer.subscribe(Subscription(topic: "t", group: "g")).makeAsyncIterator()
        _ = try await publisher.publish(.text("m1", topic: "t"))
        #expect(try await deliveries.take().envelope.id == "m1")

        // Faults injected through one reach the other.
        publisher.broker.inject(.failPublishes(count: 1, retriable: true))
        await #expect(throws: CourierError.self) { try await consumer.publish(.text("m2", topic: "t")) }
    }

    @Test func separateBrokerSetsDoNotShare() throws {
        let mine = try memoryTransport("memory://same-name")
        let elsewhere = TransportRegistry([MemoryTransportFactory()])
        let theirs = try #require(try elsewhere.makeTransport(url: "memory://same-name") as? MemoryTransport)
        #expect(mine.broker !== theirs.broker)
    }

    @Test func sameNameWithDifferentOptionsIsRefused() throws {
        _ = try memoryTransport("memory://limits?capacity=5")
        _ = try memoryTransport("memory://limits?capacity=5") // same options: fine
        let error = configurationError("memory://limits?capacity=6")
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("memory://limits already exists with capacity=5") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("same options") == true)
    }

    @Test func theContextClockDrivesTheBroker() throws {
        let clock = VirtualClock()
        let transport = try memoryTransport("memory://clocked", context: TransportContext(clock: clock))
        #expect(transport.broker.clock as? VirtualClock === clock)
    }

    @Test func brokersCanBeMadeDirectly() throws {
        let made = try brokers.broker(named: "direct", options: MemoryBrokerOptions(capacity: 3))
        #expect(try brokers.broker(named: "direct", options: MemoryBrokerOptions(capacity: 3)) === made)
        #expect(throws: CourierError.self) { try brokers.broker(named: "direct") }
        #expect(try memoryTransport("memory://direct?capacity=3").broker === made)
    }
}
