#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Turns off Nagle's algorithm on the mock brokers' listening sockets, so the connections they accept
/// send every answer at once, as a real Kafka broker does (it sets `TCP_NODELAY` on each connection).
///
/// librdkafka 2.0.2's mock broker leaves Nagle on. When it answers twice in a row on one connection, the
/// kernel holds the second answer until the client acknowledges the first, and a client with nothing to
/// send delays that acknowledgement by up to 40 ms: a producer waiting for its last delivery reports sat
/// idle for 40 ms in about half of all runs. Accepted sockets inherit `TCP_NODELAY` from the listener,
/// and the mock gives no access to its sockets, so the listeners are found by port among this process's
/// open descriptors.
enum MockBrokerNoDelay {
    /// Sets `TCP_NODELAY` on every listening IPv4 socket of this process bound to one of `ports`.
    /// Returns how many it set.
    @discardableResult
    static func apply(toListenersOn ports: Set<UInt16>) -> Int {
        var applied = 0
        for descriptor in openDescriptors() where isListener(descriptor, onOneOf: ports) {
            var on: Int32 = 1
            if setsockopt(descriptor, Int32(IPPROTO_TCP), tcpNoDelay, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 {
                applied += 1
            }
        }
        return applied
    }

    /// The ports of a `host:port,host:port` bootstrap list.
    static func ports(of bootstrapServers: String) -> Set<UInt16> {
        Set(bootstrapServers.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { UInt16($0) } })
    }

    /// `TCP_NODELAY` from <netinet/tcp.h>, which the Glibc module does not export; 1 on Linux and macOS.
    private static let tcpNoDelay: Int32 = 1

    private static func openDescriptors() -> [Int32] {
        #if os(Linux)
        if let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            return names.compactMap { Int32($0) }
        }
        #endif
        return Array(0..<1024)
    }

    private static func isListener(_ descriptor: Int32, onOneOf ports: Set<UInt16>) -> Bool {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0, Int32(address.sin_family) == AF_INET, ports.contains(UInt16(bigEndian: address.sin_port)) else {
            return false
        }
        var listening: Int32 = 0
        var optionLength = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optionLength) == 0 else { return false }
        return listening != 0
    }
}
