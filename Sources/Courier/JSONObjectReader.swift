/// Reads typed fields from one JSON object of the configuration file, naming `field.key` in every error.
struct JSONObjectReader {
    let object: [String: JSONValue]
    /// The object's path, such as `courier.json: retry`.
    let field: String

    init(_ value: JSONValue, field: String, known: Set<String>) throws(CourierError) {
        guard case .object(let object) = value else {
            throw CourierError.configuration(field: field, "is \(value.kind); it must be an object")
        }
        if let unknown = Set(object.keys).subtracting(known).sorted().first {
            throw CourierError.configuration(field: field, "has an unknown field \"\(unknown)\"; known fields: \(known.sorted().joined(separator: ", "))")
        }
        self.object = object
        self.field = field
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(CourierError) -> Double? {
        guard let value = object[key] else { return nil }
        guard case .number(let number) = value else {
            throw CourierError.configuration(field: "\(field).\(key)", "is \(value.kind); it must be a number from \(format(range.lowerBound)) to \(format(range.upperBound))")
        }
        guard range.contains(number) else {
            throw CourierError.configuration(field: "\(field).\(key)", "is \(format(number)); it must be from \(format(range.lowerBound)) to \(format(range.upperBound))")
        }
        return number
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(CourierError) -> Int? {
        guard let number = try number(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
        guard number.rounded() == number else {
            throw CourierError.configuration(field: "\(field).\(key)", "is \(number); it must be a whole number")
        }
        return Int(number)
    }

    /// A duration given in whole milliseconds.
    func milliseconds(_ key: String, in range: ClosedRange<Int>) throws(CourierError) -> Duration? {
        try integer(key, in: range).map { .milliseconds($0) }
    }

    func string(_ key: String, oneOf allowed: [String]? = nil) throws(CourierError) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let text) = value, !text.isEmpty else {
            throw CourierError.configuration(field: "\(field).\(key)", "is \(value.kind == "a string" ? "empty" : value.kind); it must be a non-empty string")
        }
        if let allowed, !allowed.contains(text) {
            throw CourierError.configuration(field: "\(field).\(key)", "is \"\(text)\"; it must be one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    private func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
