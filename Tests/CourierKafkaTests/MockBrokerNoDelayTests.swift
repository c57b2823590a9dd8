import Foundation
import Glibc
import Testing
@testable import CourierKafka

@Suite("Kafka mock cluster: brokers answer without Nagle's delay")
struct MockBrokerNoDelayTests {
    /// The broker-side sockets of this process (listeners and accepted connections: those whose own
    /// port is a broker's), each with whether `TCP_NODELAY` is set.
    private func brokerSockets(ports: Set<UInt16>) throws -> [(descriptor: Int32, noDelay: Bool)] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { Int32($0) }.compactMap { descriptor in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            guard named == 0, Int32(address.sin_family) == AF_INET, ports.contains(UInt16(bigEndian: address.sin_port)) else { return nil }
            var noDelay: Int32 = 0
            var optionLength = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, Int32(IPPROTO_TCP), 1 /* TCP_NODELAY */, &noDelay, &optionLength) == 0 else { return nil }
            return (descriptor, noDelay != 0)
        }
    }

    @Test("listeners and the connections they accept have TCP_NODELAY, also after a broker was down")
    func brokerSocketsSendAtOnce() async throws {
        let test = try await KafkaTestCluster.start(brokers: 2, topics: ["prompt": 2])
        let ports = MockBrokerNoDelay.ports(of: test.cluster.bootstrapServers)
        #expect(ports.count == 2)
        let transport = try await test.transport()
        _ = try await publish(transport, topic: "prompt", count: 10)
        let connected = try brokerSockets(ports: ports)
        // Two listeners plus at least the producer's connection to a partition leader.
        #expect(connected.count >= 3)
        #expect(connected.filter { !$0.noDelay }.map(\.descriptor) == [], "broker sockets without TCP_NODELAY")

        // A broker set down stops listening; the socket it listens on when set up gets the option too.
        try test.cluster.setBrokerDown(1)
        try test.cluster.setBrokerUp(1)
        _ = try await publish(transport, topic: "prompt", count: 10)
        let reconnected = try brokerSockets(ports: ports)
        #expect(reconnected.count >= 3)
        #expect(reconnected.filter { !$0.noDelay }.map(\.descriptor) == [], "broker sockets without TCP_NODELAY")
        await test.close()
    }
}
