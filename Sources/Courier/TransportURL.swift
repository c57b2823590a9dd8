/// A transport URL: `scheme://[user[:password]@]host[:port][,host[:port]...][/path][?key=value&...]`.
///
/// Parsed by hand rather than with Foundation's `URL` because Kafka bootstrap lists (`kafka://a:9092,b:9092`)
/// are not valid RFC 3986 authorities. ``redacted`` hides the password and secret query values; use it in
/// every log line, error and metric.
public struct TransportURL: Sendable, Hashable, CustomStringConvertible {
    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int?
    }

    /// Lowercased scheme, such as `amqp`, `kafka` or `memory`.
    public var scheme: String
    public var user: String?
    public var password: String?
    /// One or more `host[:port]` entries (the memory transport's broker name is the host).
    public var endpoints: [Endpoint]
    /// The path without its leading slash (a RabbitMQ virtual host, for example), percent-decoded.
    public var path: String
    /// Query parameters in the order given, percent-decoded.
    public var query: [(key: String, value: String)]
    /// The text as given.
    public let original: String

    /// Query keys whose values are secrets and are redacted.
    public static let secretQueryKeys: Set<String> = [
        "password", "sasl.password", "ssl.key.password", "ssl.keystore.password", "token", "secret",
    ]

    public init(_ text: String) throws(CourierError) {
        original = text
        guard let schemeEnd = text.range(of: "://") else {
            throw CourierError(
                .invalidConfiguration,
                "\"\(Self.redactUnparsed(text))\" is not a transport URL; write scheme://host, for example memory://tests, amqp://guest:guest@127.0.0.1:5672/ or kafka://127.0.0.1:9092"
            )
        }
        let scheme = String(text[..<schemeEnd.lowerBound]).lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else {
            throw CourierError(.invalidConfiguration, "\"\(Self.redact(text))\" has an invalid scheme \"\(scheme)\"; use letters, digits, + - or .")
        }
        self.scheme = scheme
        var rest = Substring(text[schemeEnd.upperBound...])

        var queryText: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var pathText: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            pathText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = Self.percentDecode(userInfo[..<colon])
                password = Self.percentDecode(userInfo[userInfo.index(after: colon)...])
            } else {
                user = Self.percentDecode(userInfo)
            }
        }
        var endpoints: [Endpoint] = []
        if !rest.isEmpty {
            for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
                endpoints.append(try Self.parseEndpoint(part, in: text))
            }
        }
        self.endpoints = endpoints
        self.path = Self.percentDecode(pathText)
        var query: [(key: String, value: String)] = []
        for pair in queryText.split(separator: "&") {
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.percentDecode(pieces[0])
            guard !key.isEmpty else {
                throw CourierError(.invalidConfiguration, "\"\(Self.redact(text))\" has a query parameter with no name; write key=value")
            }
            query.append((key, pieces.count > 1 ? Self.percentDecode(pieces[1]) : ""))
        }
        self.query = query
    }

    /// The first endpoint's host, or an empty string.
    public var host: String { endpoints.first?.host ?? "" }

    /// The last value given for a query key.
    public func queryValue(_ key: String) -> String? { query.last(where: { $0.key == key })?.value }

    /// The URL with the password and secret query values replaced by `***`.
    public var redacted: String { Self.redact(original) }

    public var description: String { redacted }

    public static func == (lhs: TransportURL, rhs: TransportURL) -> Bool { lhs.original == rhs.original }
    public func hash(into hasher: inout Hasher) { hasher.combine(original) }

    /// Redacts the password and secret query values in URL-looking text, parsed or not.
    public static func redact(_ text: String) -> String { Redaction.scrub(text) }

    /// Redacts text that has no `://`, where ``redact(_:)`` cannot tell where a password sits: everything
    /// before the last `@` and every query value are hidden.
    private static func redactUnparsed(_ text: String) -> String {
        var shown = Substring(text)
        var prefix = ""
        if let at = shown.lastIndex(of: "@") {
            prefix = "***@"
            shown = shown[shown.index(after: at)...]
        }
        if let mark = shown.firstIndex(of: "?") { shown = shown[...mark] + "***" }
        return prefix + shown
    }

    private static func parseEndpoint(_ part: Substring, in text: String) throws(CourierError) -> Endpoint {
        if part.isEmpty {
            throw CourierError(.invalidConfiguration, "\"\(redact(text))\" has an empty host in its host list; separate hosts with single commas")
        }
        var hostPart = part
        var portPart: Substring?
        if part.hasPrefix("[") {
            guard let close = part.firstIndex(of: "]") else {
                throw CourierError(.invalidConfiguration, "\"\(redact(text))\" has an IPv6 host without a closing ]")
            }
            hostPart = part[part.index(after: part.startIndex)..<close]
            let after = part[part.index(after: close)...]
            if after.hasPrefix(":") {
                portPart = after.dropFirst()
            } else if !after.isEmpty {
                throw CourierError(.invalidConfiguration, "\"\(redact(text))\" has \"\(after)\" after the closing ] of an IPv6 host; write [address]:port")
            }
        } else if let colon = part.lastIndex(of: ":") {
            hostPart = part[..<colon]
            portPart = part[part.index(after: colon)...]
        }
        if hostPart.isEmpty {
            throw CourierError(.invalidConfiguration, "\"\(redact(text))\" has an empty host in \"\(part)\"; write host or host:port")
        }
        var port: Int?
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw CourierError(.invalidConfiguration, "\"\(redact(text))\" has port \"\(portPart)\"; a port is a number from 1 to 65535")
            }
            port = value
        }
        return Endpoint(host: percentDecode(hostPart), port: port)
    }

    static func percentDecode(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"),
               let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first < utf8.endIndex,
               let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second < utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[first], utf8[second]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = utf8.index(after: second)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
