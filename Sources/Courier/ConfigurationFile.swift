import Foundation

/// Reads the JSON configuration file into raw transport entries, naming the field of every problem.
enum ConfigurationFile {
    static let topLevelFields: Set<String> = ["transports", "retry", "breaker", "spool"]
    static let transportFields: Set<String> = ["name", "url", "options"]

    /// What the file says: transports plus the optional reliability sections.
    struct Contents {
        var transports: [RawTransport]
        var producer = ProducerConfiguration()
        var spool: SpoolSettings?
    }

    static func read(path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CourierError.configuration(field: path, "cannot read the configuration file; check the path given with --config or \(ConfigurationSources.configFileVariable)")
        }
        return try parse(data, file: path)
    }

    static func parse(_ data: Data, file: String) throws -> Contents {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw CourierError.configuration(field: file, "is not valid JSON (\(describe(error))); fix the syntax")
        }
        guard case .object(let top) = root else {
            throw CourierError.configuration(field: file, "the top level is \(root.kind); it must be an object such as {\"transports\": [\"memory://demo\"]}")
        }
        try rejectUnknown(top, known: topLevelFields, at: "\(file): top level")
        guard let transports = top["transports"] else {
            throw CourierError.configuration(field: "\(file): transports", "is missing; list transport URLs in order of preference, for example \"transports\": [\"memory://demo\"]")
        }
        guard case .array(let list) = transports else {
            throw CourierError.configuration(field: "\(file): transports", "is \(transports.kind); it must be an array of URLs or {\"url\": ...} objects")
        }
        var contents = Contents(transports: try list.enumerated().map { index, item in
            try transport(item, field: "\(file): transports[\(index)]")
        })
        if let retry = top["retry"] { try ReliabilitySections.retry(retry, field: "\(file): retry", into: &contents.producer) }
        if let breaker = top["breaker"] { try ReliabilitySections.breaker(breaker, field: "\(file): breaker", into: &contents.producer) }
        if let spool = top["spool"] { contents.spool = try ReliabilitySections.spool(spool, field: "\(file): spool") }
        return contents
    }

    private static func transport(_ item: JSONValue, field: String) throws -> RawTransport {
        switch item {
        case .string(let url):
            return RawTransport(origin: field, url: url)
        case .object(let object):
            try rejectUnknown(object, known: transportFields, at: field)
            guard case .string(let url)? = object["url"] else {
                throw CourierError.configuration(field: "\(field).url", object["url"].map { "is \($0.kind); it must be a URL string" } ?? "is missing; every transport needs a URL")
            }
            var entry = RawTransport(origin: field, url: url)
            if let name = object["name"] {
                guard case .string(let text) = name, !text.isEmpty else {
                    throw CourierError.configuration(field: "\(field).name", "is \(name.kind == "a string" ? "empty" : name.kind); it must be a non-empty string")
                }
                entry.name = text
            }
            if let options = object["options"] {
                guard case .object(let values) = options else {
                    throw CourierError.configuration(field: "\(field).options", "is \(options.kind); it must be an object of option names to values")
                }
                for (key, value) in values {
                    guard let text = value.scalarText else {
                        throw CourierError.configuration(field: "\(field).options.\(key)", "is \(value.kind); option values are strings, numbers or booleans")
                    }
                    entry.options[key] = text
                }
            }
            return entry
        default:
            throw CourierError.configuration(field: field, "is \(item.kind); a transport is a URL string or an object with \"url\"")
        }
    }

    private static func rejectUnknown(_ object: [String: JSONValue], known: Set<String>, at field: String) throws {
        if let unknown = Set(object.keys).subtracting(known).sorted().first {
            throw CourierError.configuration(field: field, "has an unknown field \"\(unknown)\"; known fields: \(known.sorted().joined(separator: ", "))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError { return "\(underlying)" }
            return context.debugDescription
        }
        return "\(error)"
    }
}
