#if canImport(Glibc)
import Glibc
#endif

/// Checks whether a loopback port can be listened on again.
///
/// librdkafka 2.0.2's mock broker closes its listener when set down and aborts the process (an assert)
/// if it cannot bind the same port when set up. While it is down, clients reconnecting to that port from
/// an ephemeral port can self-connect (source port = destination port) and hold it for a moment. So
/// ``KafkaMockCluster/setBrokerDown(_:)`` holds the port while the broker is down (``hold(_:)``), and
/// ``KafkaMockCluster/setBrokerUp(_:)`` waits for the port to be free when it could not.
enum LoopbackPortProbe {
    /// True when 127.0.0.1:`port` can be bound (with SO_REUSEADDR, as the mock binds it).
    static func isFree(_ port: UInt16) -> Bool {
        guard let descriptor = hold(port) else { return false }
        release(descriptor)
        return true
    }

    /// Binds 127.0.0.1:`port` without listening (with SO_REUSEADDR) and returns the socket, or `nil` when
    /// the port is taken. While it is held, no client's connection can be given that port as its own
    /// (the kernel skips bound ports when it picks one), so it cannot self-connect there, and no other
    /// socket binding port 0 gets it; the mock, which binds with SO_REUSEADDR too, can still listen on it.
    static func hold(_ port: UInt16) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var reuse: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Closes a socket from ``hold(_:)``.
    static func release(_ descriptor: Int32) { close(descriptor) }

    /// Waits (polling every 20 ms, at most `attempts` times) until `port` is free; false if it never was.
    static func waitUntilFree(_ port: UInt16, attempts: Int = 250) -> Bool {
        for _ in 0..<attempts {
            if isFree(port) { return true }
            usleep(20_000)
        }
        return false
    }
}
