import Foundation
import Glibc
import Courier
import Synchronization
import Testing
@testable import CourierKafka

@Suite("Kafka mock cluster: a down broker keeps its port")
struct BrokerPortHoldTests {
    /// Binds 127.0.0.1:`port` as another program would (no SO_REUSEADDR); true when it got the port.
    private func plainBind(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    @Test("nothing else can take a down broker's port, and the broker listens on it again when set up")
    func downBrokerPortIsHeldAndReleased() async throws {
        let test = try await KafkaTestCluster.start(brokers: 2, topics: ["held": 1])
        let first = test.cluster.bootstrapServers.split(separator: ",").first?.split(separator: ":").last
        let port = try #require(first.flatMap { UInt16($0) })
        try test.cluster.setBrokerDown(1)
        // Down, the mock closed its listener and bound the port again without listening: a plain bind fails.
        #expect(!plainBind(port))
        try test.cluster.setBrokerUp(1)
        // Up again: the mock listens there, and a client can connect.
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        // A round trip through the broker works as before.
        let transport = try await test.transport()
        _ = try await publish(transport, topic: "held", count: 1)
        await test.close()
    }

    /// librdkafka 2.0.2 aborts the process when a broker going down cannot bind its port again, which
    /// happened when a child process was being started at that moment (it shares the listener until it
    /// runs its program). Child processes started through `ChildProcessLaunch.run` never overlap that.
    @Test("brokers set down and up while child processes start: the process keeps running")
    func brokerDownWhileChildProcessesStart() async throws {
        let test = try await KafkaTestCluster.start(brokers: 3, topics: ["spawning": 3])
        let stop = Flag()
        let launched = LaunchCount()
        let launchers = (0..<2).map { _ in
            Task.detached {
                while !stop.isSet {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/true")
                    try ChildProcessLaunch.run { try process.run() }
                    process.waitUntilExit()
                    launched.value.add(1, ordering: .relaxed)
                    // A pause, so the lock is free for the broker commands between launches.
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
        }
        #expect(try await eventually { launched.value.load(ordering: .relaxed) > 0 }, "no child process started")
        // At least 50 cycles, and on until 20 children were started while they ran (a busy machine
        // schedules the launchers late), at most 1,000.
        let before = launched.value.load(ordering: .relaxed)
        var cycle = 0
        while cycle < 1000, cycle < 50 || launched.value.load(ordering: .relaxed) - before < 20 {
            let broker = 1 + cycle % 3
            try test.cluster.setBrokerDown(broker)
            try test.cluster.setBrokerUp(broker)
            cycle += 1
        }
        stop.set()
        for launcher in launchers { try await launcher.value }
        #expect(launched.value.load(ordering: .relaxed) - before >= 20, "too few child processes started while brokers went down and up")
        let transport = try await test.transport()
        _ = try await publish(transport, topic: "spawning", count: 3)
        await test.close()
    }
}

/// Children started so far, counted from the launching tasks.
private final class LaunchCount: Sendable {
    let value = Atomic<Int>(0)
}
