import Courier
import Testing

@Suite("TransportRegistry", .timeLimit(.minutes(1)))
struct RegistryTests {
    @Test func registeredFactoryMakesTransportsForItsScheme() throws {
        var registry = TransportRegistry()
        registry.register(FakeTransportFactory())
        #expect(registry.schemes == ["test"])
        let transport = try registry.makeTransport(url: "test://broker?limit=7")
        let fake = try #require(transport as? FakeTransport)
        #expect(fake.spec.url.host == "broker")
        #expect(fake.name == "test://broker?limit=7")
        #expect(fake.capabilities.maxMessageBytes == 7)
        #expect(fake.capabilities.persistence)
    }

    @Test func transportNameDefaultsToTheRedactedURL() throws {
        let registry = TransportRegistry([FakeTransportFactory()])
        let transport = try registry.makeTransport(url: "test://user:s3cret@broker")
        #expect(transport.name == "test://user:***@broker")
        let named = try registry.makeTransport(TransportSpec(url: TransportURL("test://user:s3cret@broker"), name: "primary"))
        #expect(named.name == "primary")
    }

    @Test func unknownSchemeListsTheRegisteredSchemes() throws {
        let registry = TransportRegistry([FakeTransportFactory(schemes: ["test"]), FakeTransportFactory(schemes: ["alpha", "beta"])])
        let error = try #require(throws: CourierError.self) { try registry.makeTransport(url: "kafka://user:s3cret@k:9092") }
        #expect(error.code == .unknownScheme)
        #expect(error.message.contains("no transport is registered for scheme \"kafka\""))
        #expect(error.message.contains("registered schemes: alpha, beta, test"))
        #expect(error.message.contains("register a TransportFactory"))
        #expect(error.message.contains("kafka://user:***@k:9092"))
        #expect(!error.description.contains("s3cret"))
    }

    @Test func emptyRegistrySaysNoneAreRegistered() throws {
        let spec = TransportSpec(url: try TransportURL("memory://x"))
        let error = try #require(throws: CourierError.self) { try TransportRegistry().requireFactory(for: spec) }
        #expect(error.code == .unknownScheme)
        #expect(error.message.contains("none are registered"))
    }

    @Test func schemesMatchCaseInsensitively() throws {
        let registry = TransportRegistry([FakeTransportFactory(schemes: ["Test"])])
        #expect(registry.schemes == ["test"])
        #expect(registry.factory(for: "tEsT") != nil)
        #expect(registry.factory(for: "other") == nil)
        let transport = try registry.makeTransport(url: "TEST://Broker")
        #expect((transport as? FakeTransport)?.spec.url.scheme == "test")
    }

    @Test func laterRegistrationReplacesEarlier() throws {
        var registry = TransportRegistry()
        registry.register(FakeTransportFactory(schemes: ["test", "other"], summary: "first"))
        registry.register(FakeTransportFactory(schemes: ["test"], summary: "second"))
        #expect(registry.schemes == ["other", "test"])
        #expect(registry.factory(for: "test")?.summary == "second")
        #expect(registry.factory(for: "other")?.summary == "first")
    }

    @Test func capabilitiesValidateWithoutMakingATransport() throws {
        let registry = TransportRegistry([FakeTransportFactory()])
        let spec = TransportSpec(url: try TransportURL("test://h"), options: ["limit": "512"])
        #expect(try registry.capabilities(for: spec).maxMessageBytes == 512)
        let bad = TransportSpec(url: try TransportURL("test://h"), options: ["limit": "0"])
        #expect(throws: CourierError.self) { try registry.capabilities(for: bad) }
    }

    @Test func transportRunServesUntilCancelledThenShutsDown() async throws {
        let registry = TransportRegistry([FakeTransportFactory()])
        let transport = try #require(try registry.makeTransport(url: "test://h") as? FakeTransport)
        let confirmation = try await transport.publish(Envelope(topic: "t", payload: [], id: "m-1"))
        #expect(confirmation == PublishConfirmation(messageID: "m-1", transport: "test://h", topic: "t"))

        let running = Task { try await transport.run() }
        running.cancel()
        try await running.value
        await transport.waitUntilShutdown()
        #expect(transport.isShutDown)
    }
}

@Suite("TransportSpec")
struct TransportSpecTests {
    @Test func optionsOverrideQueryParameters() throws {
        let spec = TransportSpec(url: try TransportURL("test://h?limit=5&acks=all"), options: ["limit": "9", "extra": "x"])
        #expect(spec.option("limit") == "9")
        #expect(spec.option("acks") == "all")
        #expect(spec.option("extra") == "x")
        #expect(spec.option("missing") == nil)
        #expect(spec.optionKeys == ["limit", "acks", "extra"])
    }

    @Test func rejectUnknownOptionsNamesTheFirstUnknownAndTheKnownOnes() throws {
        let spec = TransportSpec(url: try TransportURL("test://u:s3cret@h?zeta=1&beta=2"), options: ["limit": "3"])
        try spec.rejectUnknownOptions(known: ["limit", "zeta", "beta"])
        let error = try #require(throws: CourierError.self) { try spec.rejectUnknownOptions(known: ["limit", "acks"]) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("unknown option \"beta\" for test:// transports"))
        #expect(error.message.contains("known options: acks, limit"))
        #expect(error.message.contains("test://u:***@h"))
        #expect(!error.description.contains("s3cret"))
    }

    @Test func rejectUnknownOptionsWhenNoneAreTaken() throws {
        let spec = TransportSpec(url: try TransportURL("test://h?x=1"))
        let error = try #require(throws: CourierError.self) { try spec.rejectUnknownOptions(known: []) }
        #expect(error.message.contains("it takes none"))
        try TransportSpec(url: try TransportURL("test://h")).rejectUnknownOptions(known: [])
    }

    @Test func intOptionReadsDefaultsAndValues() throws {
        let spec = TransportSpec(url: try TransportURL("test://h?limit=10"), options: ["size": "1000"])
        #expect(try spec.intOption("limit", default: 1, in: 1...10) == 10)
        #expect(try spec.intOption("size", default: 1, in: 0...1000) == 1000)
        #expect(try spec.intOption("absent", default: 42, in: 1...10) == 42)
    }

    @Test(arguments: ["0", "11", "ten", "", "1.5", " 5"])
    func intOptionRejectsValuesOutsideTheRange(value: String) throws {
        let spec = TransportSpec(url: try TransportURL("test://u:s3cret@h"), options: ["limit": value])
        let error = try #require(throws: CourierError.self) { try spec.intOption("limit", default: 1, in: 1...10) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("option limit=\"\(value)\""))
        #expect(error.message.contains("whole number from 1 to 10"))
        #expect(!error.description.contains("s3cret"))
    }
}
