import Courier
import CourierAMQP
import Foundation
import Testing

/// A CA, a server and a client certificate made with openssl for one test run.
struct TestCertificates {
    let directory: String
    var ca: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var clientCertificate: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }

    init() throws {
        directory = NSTemporaryDirectory() + "courier-amqp-tls-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let openssl = "/usr/bin/openssl"
        try runTool(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/ca.key", "-out", ca, "-days", "2", "-subj", "/CN=Courier Test CA"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        for (name, subject, extensions) in [("server", "/CN=localhost", true), ("client", "/CN=courier-client", false)] {
            try runTool(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", subject])
            var sign = ["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", ca, "-CAkey", directory + "/ca.key", "-CAcreateserial", "-out", "\(directory)/\(name).pem", "-days", "2"]
            if extensions { sign += ["-extfile", directory + "/server.ext"] }
            try runTool(openssl, sign)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

extension AMQPIntegrationTests {
    @Suite("AMQP over TLS")
    struct TLSTests {
        @Test("amqps with a client certificate round-trips; an unknown CA is refused with a clear error")
        func tlsRoundTrip() async throws {
            let certificates = try TestCertificates()
            defer { certificates.remove() }
            let port = Int.random(in: 15_671...16_670)
            // A TLS listener added to the running test node, requiring a client certificate.
            let options = "[{cacertfile, \"\(certificates.ca)\"}, {certfile, \"\(certificates.serverCertificate)\"}, {keyfile, \"\(certificates.serverKey)\"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]"
            try await BrokerControl.ctl(["eval", "{ok, _} = application:ensure_all_started(ssl), ok = rabbit_networking:start_ssl_listener({\"127.0.0.1\", \(port)}, \(options), 1)."])

            do {
                try await checkTLS(port: port, certificates: certificates)
            } catch {
                try? await BrokerControl.ctl(["eval", "rabbit_networking:stop_tcp_listener({\"127.0.0.1\", \(port)})."])
                throw error
            }
            try await BrokerControl.ctl(["eval", "rabbit_networking:stop_tcp_listener({\"127.0.0.1\", \(port)})."])
        }

        private func checkTLS(port: Int, certificates: TestCertificates) async throws {
            let base = "amqps://guest:guest@localhost:\(port)/"
            let query = "cacert=\(certificates.ca)&cert=\(certificates.clientCertificate)&key=\(certificates.clientKey)"
            let transport = try TestBroker.makeTransport(query, url: base)
            try await transport.start()
            let topic = TestBroker.uniqueTopic("tls")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g"))
            let id = try await transport.publish(Envelope(topic: topic, text: "over tls")).messageID
            let delivery = try await take(1, from: stream)[0]
            #expect(delivery.envelope.id == id)
            #expect(delivery.envelope.text == "over tls")
            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()

            // Peer verification is on by default: a CA that did not sign the broker's certificate fails.
            let stranger = try TestCertificates()
            defer { stranger.remove() }
            let untrusting = try TestBroker.makeTransport("cacert=\(stranger.ca)&cert=\(certificates.clientCertificate)&key=\(certificates.clientKey)", url: base)
            let error = await #expect(throws: CourierError.self) { try await untrusting.start() }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("localhost:\(port)") == true)
            await untrusting.shutdown()

            // A missing CA file is a configuration error naming the file.
            let missing = try TestBroker.makeTransport("cacert=/nonexistent/ca.pem", url: base)
            let missingError = await #expect(throws: CourierError.self) { try await missing.start() }
            #expect(missingError?.code == .invalidConfiguration)
            #expect(missingError?.message.contains("/nonexistent/ca.pem") == true)
            await missing.shutdown()
        }
    }
}
