// The Courier side of the CourierAMQP vs raw librabbitmq benchmark (Benchmarks/AMQP/run.sh).
//
//   CourierAMQPBenchmark produce URL TOPIC GROUP COUNT SIZE WINDOW   confirmed persistent publishes, WINDOW in flight
//   CourierAMQPBenchmark consume URL TOPIC GROUP COUNT PREFETCH      consume group GROUP with manual acks
//
// Prints one line: "<mode>: N messages in S s = R msg/s", like raw/raw_bench.c.
import Courier
import CourierAMQP
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CourierAMQPBenchmark: \(message)\n".utf8))
    exit(2)
}

func report(_ mode: String, count: Int, since start: ContinuousClock.Instant) {
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    print("\(mode): \(count) messages in \(String(format: "%.3f", seconds)) s = \(Int((Double(count) / seconds).rounded())) msg/s")
}

func transport(_ url: String, _ query: String) async throws -> AMQPTransport {
    let spec = TransportSpec(url: try TransportURL(url + "?" + query))
    let transport = try AMQPTransport(spec: spec, options: AMQPTransportOptions(spec: spec))
    try await transport.start()
    return transport
}

func produce(url: String, topic: String, group: String, count: Int, size: Int, window: Int) async throws {
    let transport = try await transport(url, "declare-groups=\(group)&confirm-window=\(window)")
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let start = ContinuousClock.now
    // `window` publishers, each awaiting its confirm, keep the confirm window full.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for publisher in 0..<window {
            group.addTask {
                for _ in stride(from: publisher, to: count, by: window) {
                    _ = try await transport.publish(Envelope(topic: topic, payload: payload))
                }
            }
        }
        try await group.waitForAll()
    }
    report("produce", count: count, since: start)
    await transport.shutdown()
}

func consume(url: String, topic: String, group: String, count: Int, prefetch: Int) async throws {
    let transport = try await transport(url, "declare-groups=\(group)")
    let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: prefetch))
    let start = ContinuousClock.now
    var received = 0
    for try await delivery in stream {
        try await delivery.ack()
        received += 1
        if received == count { break }
    }
    report("consume", count: received, since: start)
    await stream.close()
    await transport.shutdown()
}

let arguments = CommandLine.arguments
do {
    switch (arguments.count, arguments.count > 1 ? arguments[1] : "") {
    case (8, "produce"):
        guard let count = Int(arguments[5]), let size = Int(arguments[6]), let window = Int(arguments[7]), window > 0 else { fail("COUNT, SIZE and WINDOW are numbers") }
        try await produce(url: arguments[2], topic: arguments[3], group: arguments[4], count: count, size: size, window: window)
    case (7, "consume"):
        guard let count = Int(arguments[5]), let prefetch = Int(arguments[6]) else { fail("COUNT and PREFETCH are numbers") }
        try await consume(url: arguments[2], topic: arguments[3], group: arguments[4], count: count, prefetch: prefetch)
    default:
        fail("usage: CourierAMQPBenchmark produce URL TOPIC GROUP COUNT SIZE WINDOW | consume URL TOPIC GROUP COUNT PREFETCH")
    }
} catch {
    fail("\(error)")
}
