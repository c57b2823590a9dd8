import Foundation
import Glibc
import Testing
@testable import CourierKafka

@Suite("Kafka mock cluster: a broker's port is held while it is down")
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
        // Down, the mock closed its listener; the cluster holds the port, so a plain bind fails.
        #expect(!plainBind(port))
        try test.cluster.setBrokerUp(1)
        // Up again: the mock listens there (a client can connect), and the hold is gone with it.
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
}
