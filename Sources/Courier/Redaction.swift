/// Removes secrets from free text before it reaches a log line, an error or a metric.
public enum Redaction {
    /// Replaces the password of every `scheme://user:password@host` and the value of every secret query
    /// parameter (``TransportURL/secretQueryKeys``) in `text` with `***`.
    public static func scrub(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            var urlEnd = rest.firstIndex(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" }) ?? rest.endIndex
            // A list such as `amqp://u:p@a,kafka://v:q@b` holds the next URL in the same word: end this one
            // before the next one's scheme (and the comma that separates them) so both are redacted.
            if let next = rest[..<urlEnd].range(of: "://") {
                var start = next.lowerBound
                while start > rest.startIndex, isSchemeCharacter(rest[rest.index(before: start)]) {
                    start = rest.index(before: start)
                }
                if start > rest.startIndex, rest[rest.index(before: start)] == "," { start = rest.index(before: start) }
                urlEnd = start
            }
            result += redactURLTail(rest[..<urlEnd])
            rest = rest[urlEnd...]
        }
        return result + rest
    }

    private static func isSchemeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "+" || character == "-" || character == ".")
    }

    /// Redacts what follows `scheme://` in one URL.
    private static func redactURLTail(_ tail: Substring) -> String {
        let authorityEnd = tail.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? tail.endIndex
        var authority = String(tail[..<authorityEnd])
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            authority.replaceSubrange(authority.index(after: colon)..<at, with: "***")
        }
        let remainder = tail[authorityEnd...]
        guard let mark = remainder.firstIndex(of: "?") else { return authority + remainder }
        let pairs = remainder[remainder.index(after: mark)...]
            .split(separator: "&", omittingEmptySubsequences: false)
            .map { pair -> String in
                let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = TransportURL.percentDecode(pieces[0]).lowercased()
                guard pieces.count > 1, TransportURL.secretQueryKeys.contains(key) else { return String(pair) }
                return "\(pieces[0])=***"
            }
        return authority + remainder[...mark] + pairs.joined(separator: "&")
    }
}
