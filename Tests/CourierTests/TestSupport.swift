import Courier
import Foundation
import Synchronization

/// A registry test double: records the spec it was made from and does nothing else.
final class FakeTransport: Transport {
    let name: String
    let capabilities: TransportCapabilities
    let spec: TransportSpec
    private let stopped = Latch()

    init(spec: TransportSpec, capabilities: TransportCapabilities) {
        self.name = spec.name
        self.spec = spec
        self.capabilities = capabilities
    }

    var isShutDown: Bool { stopped.isOpen }

    func start() async throws {}

    func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        PublishConfirmation(messageID: envelope.id, transport: name, topic: envelope.topic)
    }

    func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        throw CourierError(.unsupported, "the fake transport does not subscribe")
    }

    func shutdown() async { stopped.open() }

    func waitUntilShutdown() async { await stopped.wait() }
}

/// A registry test double for one or more schemes. It accepts one option, `limit` (1...1000), and reports
/// it as the maximum message size so tests can see options arrive.
struct FakeTransportFactory: TransportFactory {
    var schemes: [String]
    var summary: String

    init(schemes: [String] = ["test"], summary: String = "fake transport for registry tests") {
        self.schemes = schemes
        self.summary = summary
    }

    func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        try spec.rejectUnknownOptions(known: ["limit"])
        return TransportCapabilities(persistence: true, maxMessageBytes: try spec.intOption("limit", default: 100, in: 1...1000))
    }

    func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        FakeTransport(spec: spec, capabilities: try capabilities(for: spec))
    }
}

/// A fresh directory under the system's temporary directory, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("courier-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to a file named `name` and returns its path.
    func write(_ text: String, name: String = "courier.json") throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    /// A path inside the directory where no file exists.
    var missingFile: String { url.appendingPathComponent("missing.json").path }
}

/// A counter tasks can share.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    init() {}
    func increment() { storage.add(1, ordering: .sequentiallyConsistent) }
    var value: Int { storage.load(ordering: .sequentiallyConsistent) }
}

/// A flag tasks can share.
final class Flag: Sendable {
    private let storage = Atomic<Bool>(false)
    init() {}
    func set() { storage.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { storage.load(ordering: .sequentiallyConsistent) }
}
