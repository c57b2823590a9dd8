import Courier
import CourierAMQP
import CourierKafka
import CourierMemory
import Foundation

/// The transports a worker process uses, given as `name=url` (the name is what receipts and the ledger
/// record, such as `rabbitmq=amqp://guest:guest@127.0.0.1:5673/`).
struct WorkerTransports {
    let transports: [any Transport]

    init(specs: [String]) throws {
        let registry = TransportRegistry([MemoryTransportFactory(), KafkaTransportFactory(), AMQPTransportFactory()])
        transports = try specs.map { text in
            guard let separator = text.firstIndex(of: "="), separator != text.startIndex else {
                throw ChaosError("transport '\(text)' must be NAME=URL, for example rabbitmq=amqp://guest:guest@127.0.0.1:5673/")
            }
            let url = try TransportURL(String(text[text.index(after: separator)...]))
            return try registry.makeTransport(TransportSpec(url: url, name: String(text[..<separator])))
        }
    }

    /// Starts every transport, trying again for up to `deadline` while a broker is not answering yet.
    func start(deadline: Duration) async throws {
        let clock = ContinuousClock()
        let giveUp = clock.now + deadline
        for transport in transports {
            while true {
                do {
                    try await transport.start()
                    break
                } catch {
                    guard clock.now < giveUp else { throw ChaosError("\(transport.name) did not start within \(deadline): \(error)") }
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
        }
    }

    func shutdown() async {
        for transport in transports { await transport.shutdown() }
    }
}

/// Prints one progress line to standard output (a file the driver keeps), flushed at once.
func workerLog(_ text: String) {
    FileHandle.standardOutput.write(Data("\(Date()) \(text)\n".utf8))
}
