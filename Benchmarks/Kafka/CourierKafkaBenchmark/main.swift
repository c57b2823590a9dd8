// The Courier side of the Kafka benchmark: the same work as raw/raw_bench.c, through CourierKafka.
//
//   CourierKafkaBenchmark produce BOOTSTRAP TOPIC COUNT SIZE [BATCH [CONCURRENCY]] [--json]
//       publish COUNT messages with Transport.publish(contentsOf:) in batches of BATCH (default 1000),
//       CONCURRENCY batches in flight at once (default 8), and count those confirmed (acks=all)
//   CourierKafkaBenchmark consume BOOTSTRAP TOPIC COUNT GROUP [PREFETCH] [--json]
//       subscribe as GROUP (prefetch default 1000), read the stream a batch at a time with the iterator's
//       nextBatch() (one suspension per batch, as a pipeline reads it) and ack every delivery;
//       COURIER_BENCH_DEBUG=1 also prints to stderr how many batches came and how long the reader waited for them
//   CourierKafkaBenchmark consume-floor BOOTSTRAP TOPIC COUNT GROUP [--json]
//       not CourierKafka: one thread on librdkafka building an owned Envelope per record (EnvelopeFloor.swift),
//       the ceiling for any Swift consumer that hands out envelopes
//   CourierKafkaBenchmark produce-floor BOOTSTRAP TOPIC COUNT SIZE [--json]
//       not CourierKafka: one thread on librdkafka writing, for every message, the Envelope and record the
//       produce step writes (ProduceFloor.swift), the ceiling for any Swift producer of Courier's records
//
// Prints one line in raw_bench's format, or with --json one JSON object:
// {"side":"courier","step":"produce","messages":N,"size":B,"msgPerSec":R,"cpuNsPerMsg":C} (side "swift-envelopes-only" for the floors)
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

/// CPU time (user + system) this process has used so far, in nanoseconds.
func cpuNanoseconds() -> Int64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Int64(usage.ru_utime.tv_sec) * 1_000_000_000 + Int64(usage.ru_utime.tv_usec) * 1000
    let system = Int64(usage.ru_stime.tv_sec) * 1_000_000_000 + Int64(usage.ru_stime.tv_usec) * 1000
    return user + system
}

/// Wall-clock and CPU time from its creation until ``stop()``.
struct Measurement {
    let start = ContinuousClock.now
    let cpuStart = cpuNanoseconds()

    /// Seconds and CPU nanoseconds since the start.
    func stop() -> (seconds: Double, cpuNanoseconds: Int64) {
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpuNanoseconds() - cpuStart)
    }
}

func produce(bootstrap: String, topic: String, count: Int, size: Int, batchSize: Int, concurrency: Int) async throws -> (Int, Int, (seconds: Double, cpuNanoseconds: Int64)) {
    let transport = try await makeTransport(bootstrap)
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    // Topic metadata is fetched on first use; do that outside the timed part, as raw_bench's first produce does.
    _ = try await transport.publish(Envelope(topic: topic, payload: payload, orderingKey: "warm-up"))
    let measurement = Measurement()
    let batches = stride(from: 0, to: count, by: batchSize).map { $0..<min($0 + batchSize, count) }
    // CONCURRENCY workers, each building a batch of envelopes, publishing it and awaiting its outcomes.
    let (confirmed, failed) = try await withThrowingTaskGroup(of: (Int, Int).self, returning: (Int, Int).self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var confirmed = 0
                var failed = 0
                for batch in stride(from: worker, to: batches.count, by: concurrency).map({ batches[$0] }) {
                    let envelopes = batch.map { Envelope(topic: topic, payload: payload, orderingKey: "key-\($0 % 100)") }
                    for outcome in await transport.publish(contentsOf: envelopes) {
                        if case .success = outcome { confirmed += 1 } else { failed += 1 }
                    }
                }
                return (confirmed, failed)
            }
        }
        return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
    }
    let result = (confirmed, failed, measurement.stop())
    await transport.shutdown()
    return result
}

func consume(bootstrap: String, topic: String, count: Int, group: String, prefetch: Int) async throws -> (Int, Int, (seconds: Double, cpuNanoseconds: Int64)) {
    let transport = try await makeTransport(bootstrap)
    let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: prefetch))
    var received = 0
    var bytes = 0
    var measurement: Measurement?
    var waited: Duration = .zero
    var batches = 0
    var iterator = stream.makeAsyncIterator()
    reading: while true {
        let before = ContinuousClock.now
        guard let batch = try await iterator.nextBatch() else { break }
        if measurement != nil { waited += ContinuousClock.now - before }
        batches += 1
        for delivery in batch {
            if measurement == nil { measurement = Measurement() }
            bytes += delivery.envelope.payload.count
            received += 1
            try await delivery.ack()
            if received >= count { break reading }
        }
    }
    if ProcessInfo.processInfo.environment["COURIER_BENCH_DEBUG"] != nil {
        FileHandle.standardError.write(Data("batches \(batches), waited \(waited)\n".utf8))
        FileHandle.standardError.write(Data(threadCPUTimes().utf8))
    }
    let result = (received, bytes, (measurement ?? Measurement()).stop())
    await stream.close()
    await transport.shutdown()
    return result
}

/// Each thread's name and CPU time so far (from /proc/self/task/*/schedstat), one line each, to see
/// whether librdkafka's threads or Courier's own do the work.
func threadCPUTimes() -> String {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.sorted().map { task in
        let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let schedstat = (try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8)) ?? ""
        let nanoseconds = schedstat.split(separator: " ").first.flatMap { Int($0) } ?? 0
        return "thread \(task) \(name) \(String(format: "%.1f", Double(nanoseconds) / 1e6)) ms\n"
    }.joined()
}

func report(_ step: String, _ count: Int, size: Int, _ measurement: (seconds: Double, cpuNanoseconds: Int64), extra: String, json: Bool, side: String = "courier") {
    let (seconds, cpu) = measurement
    let rate = Int((Double(count) / seconds).rounded())
    let cpuPerMessage = count > 0 ? Int(cpu / Int64(count)) : 0
    if json {
        print(#"{"side":"\#(side)","step":"\#(step)","messages":\#(count),"size":\#(size),"msgPerSec":\#(rate),"cpuNsPerMsg":\#(cpuPerMessage)}"#)
    } else {
        print("\(step) \(count) messages in \(String(format: "%.3f", seconds)) s = \(rate) msg/s \(extra), \(cpuPerMessage) ns CPU/msg")
    }
}

let json = CommandLine.arguments.contains("--json")
let arguments = CommandLine.arguments.filter { $0 != "--json" }
guard arguments.count >= 6, let count = Int(arguments[4]), count > 0 else {
    fail("usage: CourierKafkaBenchmark produce BOOTSTRAP TOPIC COUNT SIZE [BATCH [CONCURRENCY]] [--json] | consume BOOTSTRAP TOPIC COUNT GROUP [PREFETCH] [--json] | consume-floor BOOTSTRAP TOPIC COUNT GROUP [--json] | produce-floor BOOTSTRAP TOPIC COUNT SIZE [--json]")
}
func optionalNumber(_ index: Int, default value: Int, _ name: String) -> Int {
    guard arguments.count > index else { return value }
    guard let number = Int(arguments[index]), number >= 1 else { fail("\(name) must be a whole number of at least 1, not \(arguments[index])") }
    return number
}
do {
    switch arguments[1] {
    case "produce":
        guard let size = Int(arguments[5]), size >= 0 else { fail("SIZE must be a number of bytes") }
        let batch = optionalNumber(6, default: 1000, "BATCH")
        let concurrency = optionalNumber(7, default: 8, "CONCURRENCY")
        let (confirmed, failed, measurement) = try await produce(
            bootstrap: arguments[2], topic: arguments[3], count: count, size: size, batchSize: batch, concurrency: concurrency
        )
        report("produce", confirmed, size: size, measurement, extra: "(\(failed) failed)", json: json)
        if failed > 0 { exit(1) }
    case "consume":
        let prefetch = optionalNumber(6, default: 1000, "PREFETCH")
        let (received, bytes, measurement) = try await consume(
            bootstrap: arguments[2], topic: arguments[3], count: count, group: arguments[5], prefetch: prefetch
        )
        report("consume", received, size: received > 0 ? bytes / received : 0, measurement, extra: "(\(bytes) payload bytes)", json: json)
    case "consume-floor":
        let (received, bytes, measurement) = try consumeFloor(bootstrap: arguments[2], topic: arguments[3], count: count, group: arguments[5])
        report("consume", received, size: received > 0 ? bytes / received : 0, measurement, extra: "(\(bytes) payload bytes)", json: json, side: "swift-envelopes-only")
    case "produce-floor":
        guard let size = Int(arguments[5]), size >= 0 else { fail("SIZE must be a number of bytes") }
        let (delivered, failed, measurement) = try produceFloor(bootstrap: arguments[2], topic: arguments[3], count: count, size: size)
        report("produce", delivered, size: size, measurement, extra: "(\(failed) failed)", json: json, side: "swift-envelopes-only")
        if failed > 0 { exit(1) }
    default:
        fail("mode must be produce, consume, consume-floor or produce-floor")
    }
} catch {
    fail("\(error)")
}
