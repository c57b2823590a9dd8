import Courier
import Testing

@Suite("TransportURL")
struct TransportURLTests {
    /// Each endpoint as `host|port`, with `-` for no port.
    func endpoints(_ url: TransportURL) -> [String] {
        url.endpoints.map { "\($0.host)|\($0.port.map(String.init) ?? "-")" }
    }

    @Test func singleHostWithPort() throws {
        let url = try TransportURL("amqp://127.0.0.1:5672")
        #expect(url.scheme == "amqp")
        #expect(endpoints(url) == ["127.0.0.1|5672"])
        #expect(url.host == "127.0.0.1")
        #expect(url.user == nil && url.password == nil)
        #expect(url.path.isEmpty)
        #expect(url.query.isEmpty)
        #expect(url.original == "amqp://127.0.0.1:5672")
    }

    @Test func hostWithoutPortAndLowercasedScheme() throws {
        let url = try TransportURL("MEMORY://Tests")
        #expect(url.scheme == "memory")
        #expect(endpoints(url) == ["Tests|-"])
    }

    @Test func kafkaHostList() throws {
        let url = try TransportURL("kafka://a:9092,b:9093,c")
        #expect(url.scheme == "kafka")
        #expect(url.endpoints.map(\.host) == ["a", "b", "c"])
        #expect(url.endpoints.map(\.port) == [9092, 9093, nil])
        #expect(url.host == "a")
    }

    @Test func ipv6Hosts() throws {
        let url = try TransportURL("amqp://[::1]:5672")
        #expect(endpoints(url) == ["::1|5672"])
        let list = try TransportURL("kafka://[fe80::1]:9092,[::1]")
        #expect(endpoints(list) == ["fe80::1|9092", "::1|-"])
    }

    @Test func userAndPercentEncodedPassword() throws {
        let url = try TransportURL("amqp://guest%40corp:p%40ss%3Aw%2Frd@broker:5671/")
        #expect(url.user == "guest@corp")
        #expect(url.password == "p@ss:w/rd")
        #expect(endpoints(url) == ["broker|5671"])
        #expect(url.path.isEmpty)
    }

    @Test func userWithoutPassword() throws {
        let url = try TransportURL("amqp://guest@broker")
        #expect(url.user == "guest")
        #expect(url.password == nil)
        #expect(url.host == "broker")
    }

    @Test func encodedSlashPathIsTheDefaultVirtualHost() throws {
        #expect(try TransportURL("amqp://h/%2F").path == "/")
        #expect(try TransportURL("amqp://h/orders").path == "orders")
        #expect(try TransportURL("amqp://h/").path == "")
        #expect(try TransportURL("amqp://h/my%20vhost?heartbeat=10").path == "my vhost")
    }

    @Test func queryKeepsOrderAndLastValueWins() throws {
        let url = try TransportURL("kafka://h:9092?b=2&a=1&b=3&flag&enc%2Ekey=x%26y")
        #expect(url.query.map(\.key) == ["b", "a", "b", "flag", "enc.key"])
        #expect(url.query.map(\.value) == ["2", "1", "3", "", "x&y"])
        #expect(url.queryValue("b") == "3")
        #expect(url.queryValue("a") == "1")
        #expect(url.queryValue("flag") == "")
        #expect(url.queryValue("enc.key") == "x&y")
        #expect(url.queryValue("missing") == nil)
    }

    @Test func redactedHidesPasswordAndSecretQueryValues() throws {
        let url = try TransportURL("amqp://guest:s3cret@h:5672/%2F?heartbeat=10&password=hunter2")
        #expect(url.redacted == "amqp://guest:***@h:5672/%2F?heartbeat=10&password=***")
        #expect(url.description == url.redacted)
        #expect("\(url)".contains("s3cret") == false)
    }

    @Test func equalityAndHashingFollowTheOriginalText() throws {
        #expect(try TransportURL("memory://a") == TransportURL("memory://a"))
        #expect(try TransportURL("memory://a") != TransportURL("memory://b"))
        #expect(try Set([TransportURL("memory://a"), TransportURL("memory://a")]).count == 1)
    }

    @Test(arguments: [
        ("amqp://h:99999", "port \"99999\""),
        ("amqp://h:0", "port \"0\""),
        ("amqp://h:abc", "port \"abc\""),
        ("amqp://h:", "port \"\""),
        ("kafka://a:9092,,b:9093", "empty host"),
        ("kafka://a:9092,", "empty host"),
        ("amqp://:5672", "empty host"),
        ("amqp://user@:5672/", "empty host"),
        ("amqp://[]:5672", "empty host"),
        ("amqp://[::1:5672", "without a closing ]"),
        ("amqp://[::1]5672", "after the closing ]"),
        ("amqp://h?=x", "query parameter with no name"),
        ("127.0.0.1:5672", "is not a transport URL"),
        ("://h", "invalid scheme"),
        ("am qp://h", "invalid scheme"),
    ])
    func malformedURLsAreRejectedWithTheReason(text: String, reason: String) throws {
        let error = try #require(throws: CourierError.self) { try TransportURL(text) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test func portErrorSaysTheRange() throws {
        let error = try #require(throws: CourierError.self) { try TransportURL("amqp://h:70000") }
        #expect(error.message.contains("a port is a number from 1 to 65535"))
    }

    @Test func missingSchemeSeparatorShowsAnExample() throws {
        let error = try #require(throws: CourierError.self) { try TransportURL("localhost") }
        #expect(error.message.contains("write scheme://host"))
        #expect(error.message.contains("memory://tests"))
    }

    @Test(arguments: [
        "amqp://guest:s3cret@h:99999",
        "amqp://guest:s3cret@h:abc/%2F",
        "kafka://guest:s3cret@a:9092,,b",
        "amqp://guest:s3cret@[::1:5672",
        "amqp://guest:s3cret@h?=x",
        "kafka://h:0?sasl.password=s3cret",
        "am qp://guest:s3cret@h",
        "amqp:/guest:s3cret@h",
        "amqp//guest:s3cret@h:5672",
        "guest:s3cret@h:5672",
        "memory:h?password=s3cret",
    ])
    func errorsNeverContainThePassword(text: String) throws {
        let error = try #require(throws: CourierError.self) { try TransportURL(text) }
        #expect(!error.description.contains("s3cret"), "\(error.description)")
        #expect(!error.message.isEmpty)
    }
}
