import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves a Prometheus page (`GET /metrics`) over HTTP/1.1 on one address, from a thread of its own.
///
/// Written over plain sockets rather than a C HTTP library: it answers one small GET at a time on a
/// loopback port, which takes a hundred lines, and keeps the core free of C dependencies. It binds to
/// 127.0.0.1 unless told otherwise, reads at most 8 KiB of a request, gives a client 2 s to send it, and
/// closes every connection after the answer.
public final class MetricsHTTPServer: Sendable {
    /// The port it listens on (the one the system chose when asked for port 0).
    public let port: Int
    public let host: String
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let finished = Latch()
    private let page: @Sendable () -> String

    /// Starts serving `metrics` at once.
    /// - Throws: ``CourierError/Code/invalidConfiguration`` when the address is bad or the port is taken.
    public convenience init(host: String = "127.0.0.1", port: Int, metrics: MetricsRegistry) throws {
        try self.init(host: host, port: port, page: { metrics.prometheusText() })
    }

    /// Starts serving whatever `page` returns at `/metrics`.
    public init(host: String = "127.0.0.1", port: Int, page: @escaping @Sendable () -> String) throws {
        guard (0...65535).contains(port) else {
            throw CourierError.configuration(field: "metrics port", "\(port) is not a port; give a number from 1 to 65535 (0 picks a free one)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw CourierError.configuration(field: "metrics host", "'\(host)' is not an IPv4 address; use 127.0.0.1 (the default) or 0.0.0.0")
        }
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw CourierError(.unavailable, "could not open a socket for the metrics server: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CourierError.configuration(
                field: "metrics port", "cannot listen on \(host):\(port) (\(reason)); pick a free port with --metrics-port"
            )
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.host = host
        listener = descriptor
        self.page = page
        let thread = Thread { [self] in serve() }
        thread.name = "courier-metrics-http"
        thread.start()
    }

    /// The page's address, such as `http://127.0.0.1:9464/metrics`.
    public var url: String { "http://\(host):\(port)/metrics" }

    /// Stops accepting and waits for the serving thread to finish.
    public func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return await finished.wait() }
        await finished.wait()
    }

    private func serve() {
        defer {
            close(listener)
            finished.open()
        }
        while !stopped.load(ordering: .acquiring) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            // Wake up now and then to notice shutdown.
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192, !request.ends(with: [13, 10, 13, 10]) {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            request += buffer[..<count]
        }
        let requestLine = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let response: String
        if requestLine.count < 2 {
            response = Self.response(status: "400 Bad Request", body: "expected an HTTP request line such as 'GET /metrics HTTP/1.1'\n")
        } else if requestLine[0] != "GET" && requestLine[0] != "HEAD" {
            response = Self.response(status: "405 Method Not Allowed", body: "only GET is served\n", extra: "Allow: GET, HEAD\r\n")
        } else if requestLine[1] == "/metrics" || requestLine[1] == "/" {
            let body = page()
            response = Self.response(status: "200 OK", body: requestLine[0] == "HEAD" ? "" : body, contentType: PrometheusTextFormat.contentType, length: body.utf8.count)
        } else {
            response = Self.response(status: "404 Not Found", body: "the metrics are at /metrics\n")
        }
        let bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    private static func response(status: String, body: String, contentType: String = "text/plain; charset=utf-8", length: Int? = nil, extra: String = "") -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length ?? body.utf8.count)\r\nConnection: close\r\n\(extra)\r\n\(body)"
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
