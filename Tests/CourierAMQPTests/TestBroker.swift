import Courier
import CourierAMQP
import Foundation
import Testing

/// The local RabbitMQ that `make test` starts, and helpers to make transports and names for it.
enum TestBroker {
    /// Set by `make test`; the default matches `.ci/rabbitmq`.
    static var url: String {
        ProcessInfo.processInfo.environment["COURIER_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
    }

    struct NotRunning: Error, CustomStringConvertible {
        var description: String
    }

    /// A started transport on the test broker. A broker that is down fails the test with how to start it.
    static func transport(_ query: String = "") async throws -> AMQPTransport {
        let transport = try makeTransport(query)
        do {
            try await transport.start()
        } catch let error as CourierError where error.code == .unavailable {
            throw NotRunning(description: "RabbitMQ is not reachable at \(url) (\(error.message)); start it with make rabbitmq-start")
        }
        return transport
    }

    /// An unstarted transport on the test broker.
    static func makeTransport(_ query: String = "", url: String = TestBroker.url) throws -> AMQPTransport {
        let separator = query.isEmpty ? "" : "?"
        let spec = TransportSpec(url: try TransportURL(url + separator + query))
        // COURIER_TEST_LOG=1 shows the transport's connection log on standard error.
        let logger: any CourierLogger = ProcessInfo.processInfo.environment["COURIER_TEST_LOG"] == nil ? SilentLogger() : StandardErrorLogger(minimumLevel: .debug)
        return try AMQPTransport(spec: spec, options: AMQPTransportOptions(spec: spec), context: TransportContext(logger: logger))
    }

    /// A topic name no other test or run uses.
    static func uniqueTopic(_ label: String) -> String {
        "courier-test.\(label).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Deletes a test's exchange and queues, ignoring the ones that do not exist.
    static func cleanUp(_ transport: AMQPTransport, topic: String, groups: [String] = [], queues: [String] = []) async {
        for group in groups { try? await transport.delete(.queue("\(topic).\(group)")) }
        for queue in queues { try? await transport.delete(.queue(queue)) }
        try? await transport.delete(.exchange(topic))
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body`, failing with `what` if it takes longer than `limit`.
func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(description: "timed out after \(limit): \(what)")
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimedOut(description: what) }
        return result
    }
}

/// Reads `count` deliveries, settling each with `settle`; an inactivity of `idle` fails.
func take(
    _ count: Int, from stream: DeliveryStream, idle: Duration = .seconds(10),
    settle: @escaping @Sendable (Delivery) async throws -> Void = { try await $0.ack() }
) async throws -> [Delivery] {
    var iterator = stream.makeAsyncIterator()
    var received: [Delivery] = []
    while received.count < count {
        let next = try await nextDelivery(&iterator, idle: idle, after: received.count)
        try await settle(next)
        received.append(next)
    }
    return received
}

/// The next delivery, or a failure after `idle` without one.
func nextDelivery(_ iterator: inout DeliveryStream.Iterator, idle: Duration, after count: Int = 0) async throws -> Delivery {
    let box = IteratorBox(iterator)
    let delivery = try await within(idle, "no delivery for \(idle) after \(count) received") { try await box.next() }
    iterator = box.iterator
    guard let delivery else { throw TimedOut(description: "the subscription ended after \(count) deliveries") }
    return delivery
}

/// Lets a test move an iterator into a timed child task and back.
final class IteratorBox: @unchecked Sendable {
    var iterator: DeliveryStream.Iterator
    init(_ iterator: DeliveryStream.Iterator) { self.iterator = iterator }
    func next() async throws -> Delivery? { try await iterator.next() }
    func nextBatch() async throws -> [Delivery]? { try await iterator.nextBatch() }
}

/// A progress line on standard error when COURIER_TEST_LOG is set (standard output is buffered until exit).
func trace(_ text: String) {
    guard ProcessInfo.processInfo.environment["COURIER_TEST_LOG"] != nil else { return }
    FileHandle.standardError.write(Data("test: \(text)\n".utf8))
}
