// The Courier side of the CourierAMQP vs raw librabbitmq benchmark (Benchmarks/AMQP/run.sh).
//
//   CourierAMQPBenchmark produce URL TOPIC GROUP COUNT SIZE WINDOW
//       confirmed persistent publishes through publish(contentsOf:) in batches of WINDOW messages (the
//       confirm window); two batches are under way at a time, so the window stays full while a finished
//       batch's task hands the next one over.
//   CourierAMQPBenchmark produce-concurrent URL TOPIC GROUP COUNT SIZE WINDOW
//       the same through publish(_:) from WINDOW concurrent tasks, each awaiting its confirm.
//   CourierAMQPBenchmark consume URL TOPIC GROUP COUNT PREFETCH
//       consume group GROUP, acking each delivery.
//
// Prints "<step>: N messages in S s = R msg/s" like raw/raw_bench.c, then one JSON line:
// {"side":"courier","step":...,"messages":...,"size":...,"msgPerSec":...,"cpuNsPerMsg":...}
// (cpuNsPerMsg: user + system CPU time of the whole process per message, all threads).
import Courier
import CourierAMQP
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CourierAMQPBenchmark: \(message)\n".utf8))
    exit(2)
}

/// User + system CPU time of the process so far, in nanoseconds.
func cpuNanoseconds() -> Int64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func nanoseconds(_ time: timeval) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1_000 }
    return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
}

struct Measurement {
    let wall = ContinuousClock.now
    let cpu = cpuNanoseconds()

    func report(_ step: String, count: Int, size: Int) {
        let seconds = (ContinuousClock.now - wall) / .seconds(1)
        let rate = Int((Double(count) / seconds).rounded())
        let cpuPerMessage = count > 0 ? (cpuNanoseconds() - cpu) / Int64(count) : 0
        print("\(step): \(count) messages in \(String(format: "%.3f", seconds)) s = \(rate) msg/s")
        print(#"{"side":"courier","step":"\#(step)","messages":\#(count),"size":\#(size),"msgPerSec":\#(rate),"cpuNsPerMsg":\#(cpuPerMessage)}"#)
    }
}

func transport(_ url: String, _ query: String) async throws -> AMQPTransport {
    let spec = TransportSpec(url: try TransportURL(url + "?" + query))
    let transport = try AMQPTransport(spec: spec, options: AMQPTransportOptions(spec: spec))
    try await transport.start()
    return transport
}

func produceInBatches(url: String, topic: String, group: String, count: Int, size: Int, window: Int) async throws {
    let transport = try await transport(url, "declare-groups=\(group)&confirm-window=\(window)")
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let batches = stride(from: 0, to: count, by: window).map { min(window, count - $0) }
    let measurement = Measurement()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for publisher in 0..<2 {
            group.addTask {
                for batch in stride(from: publisher, to: batches.count, by: 2) {
                    let envelopes = (0..<batches[batch]).map { _ in Envelope(topic: topic, payload: payload) }
                    for outcome in await transport.publish(contentsOf: envelopes) { _ = try outcome.get() }
                }
            }
        }
        try await group.waitForAll()
    }
    measurement.report("produce", count: count, size: size)
    await transport.shutdown()
}

func produceConcurrently(url: String, topic: String, group: String, count: Int, size: Int, window: Int) async throws {
    let transport = try await transport(url, "declare-groups=\(group)&confirm-window=\(window)")
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let measurement = Measurement()
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
    measurement.report("produce-concurrent", count: count, size: size)
    await transport.shutdown()
}

func consume(url: String, topic: String, group: String, count: Int, prefetch: Int) async throws {
    let transport = try await transport(url, "declare-groups=\(group)")
    let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: prefetch))
    let measurement = Measurement()
    var received = 0
    var size = 0
    for try await delivery in stream {
        try await delivery.ack()
        size = delivery.envelope.payload.count
        received += 1
        if received == count { break }
    }
    measurement.report("consume", count: received, size: size)
    await stream.close()
    await transport.shutdown()
}

let arguments = CommandLine.arguments
do {
    switch (arguments.count, arguments.count > 1 ? arguments[1] : "") {
    case (8, "produce"), (8, "produce-concurrent"):
        guard let count = Int(arguments[5]), let size = Int(arguments[6]), let window = Int(arguments[7]), count >= 0, size >= 0, window > 0 else {
            fail("COUNT and SIZE are numbers, WINDOW a number above 0")
        }
        let produce = arguments[1] == "produce" ? produceInBatches : produceConcurrently
        try await produce(arguments[2], arguments[3], arguments[4], count, size, window)
    case (7, "consume"):
        guard let count = Int(arguments[5]), let prefetch = Int(arguments[6]), count > 0, prefetch > 0 else { fail("COUNT and PREFETCH are numbers above 0") }
        try await consume(url: arguments[2], topic: arguments[3], group: arguments[4], count: count, prefetch: prefetch)
    default:
        fail("usage: CourierAMQPBenchmark produce|produce-concurrent URL TOPIC GROUP COUNT SIZE WINDOW | consume URL TOPIC GROUP COUNT PREFETCH")
    }
} catch {
    fail("\(error)")
}
