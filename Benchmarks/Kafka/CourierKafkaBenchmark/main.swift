// The Courier side of the Kafka benchmark: the same work as raw/raw_bench.c, through CourierKafka.
//
//   CourierKafkaBenchmark produce BOOTSTRAP TOPIC COUNT SIZE [IN-FLIGHT]   publish and await each confirmation,
//                                                                          IN-FLIGHT concurrent publishers (default 1000)
//   CourierKafkaBenchmark consume BOOTSTRAP TOPIC COUNT GROUP [PREFETCH]   subscribe as GROUP and ack every delivery
//                                                                          (default prefetch 1000)
//
// Prints one line in raw_bench's format.
import Courier
import CourierKafka
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CourierKafkaBenchmark: \(message)\n".utf8))
    exit(2)
}

func makeTransport(_ bootstrap: String) async throws -> any Transport {
    let transport = try TransportRegistry([KafkaTransportFactory()]).makeTransport(url: "kafka://\(bootstrap)")
    try await transport.start()
    return transport
}

func produce(bootstrap: String, topic: String, count: Int, size: Int, inFlight: Int) async throws {
    let transport = try await makeTransport(bootstrap)
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    // Topic metadata is fetched on first use; do that outside the timed part, as raw_bench's first produce does.
    _ = try await transport.publish(Envelope(topic: topic, payload: payload, orderingKey: "warm-up"))
    let start = ContinuousClock.now
    // IN-FLIGHT concurrent publishers, each awaiting its confirmations one after another, as many
    // concurrent request handlers would (not one task per message).
    let confirmed = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
        for worker in 0..<inFlight {
            group.addTask {
                var sent = 0
                for index in stride(from: worker, to: count, by: inFlight) {
                    _ = try await transport.publish(Envelope(topic: topic, payload: payload, orderingKey: "key-\(index % 100)"))
                    sent += 1
                }
                return sent
            }
        }
        return try await group.reduce(0, +)
    }
    report("produce", confirmed, since: start, extra: "(0 failed)")
    await transport.shutdown()
}

func consume(bootstrap: String, topic: String, count: Int, group: String, prefetch: Int) async throws {
    let transport = try await makeTransport(bootstrap)
    let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: prefetch))
    var received = 0
    var bytes = 0
    var start = ContinuousClock.now
    for try await delivery in stream {
        if received == 0 { start = .now }
        bytes += delivery.envelope.payload.count
        received += 1
        try await delivery.ack()
        if received >= count { break }
    }
    report("consume", received, since: start, extra: "(\(bytes) payload bytes)")
    await stream.close()
    await transport.shutdown()
}

func report(_ mode: String, _ count: Int, since start: ContinuousClock.Instant, extra: String) {
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(mode) \(count) messages in \(String(format: "%.3f", seconds)) s = \(Int((Double(count) / seconds).rounded())) msg/s \(extra)")
}

let arguments = CommandLine.arguments
guard arguments.count >= 6, let count = Int(arguments[4]), count > 0 else {
    fail("usage: CourierKafkaBenchmark produce BOOTSTRAP TOPIC COUNT SIZE [IN-FLIGHT] | consume BOOTSTRAP TOPIC COUNT GROUP [PREFETCH]")
}
do {
    switch arguments[1] {
    case "produce":
        guard let size = Int(arguments[5]), size >= 0 else { fail("SIZE must be a number of bytes") }
        let inFlight = arguments.count > 6 ? Int(arguments[6]) ?? 1000 : 1000
        try await produce(bootstrap: arguments[2], topic: arguments[3], count: count, size: size, inFlight: max(1, inFlight))
    case "consume":
        let prefetch = arguments.count > 6 ? Int(arguments[6]) ?? 1000 : 1000
        try await consume(bootstrap: arguments[2], topic: arguments[3], count: count, group: arguments[5], prefetch: max(1, prefetch))
    default:
        fail("mode must be produce or consume")
    }
} catch {
    fail("\(error)")
}
