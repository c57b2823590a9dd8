import Foundation

/// Renders metrics in the Prometheus text exposition format 0.0.4.
enum PrometheusTextFormat {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ metrics: [(MetricsRegistry.Key, MetricsRegistry.Handler)]) -> String {
        // Samples of one family must be together, under one HELP and TYPE line.
        var families: [String: [(MetricsRegistry.Key, MetricsRegistry.Handler)]] = [:]
        var order: [String] = []
        for metric in metrics {
            let name = familyName(metric.0.label, kind: metric.1.kind)
            if families[name] == nil { order.append(name) }
            families[name, default: []].append(metric)
        }
        var text = ""
        for name in order.sorted() {
            guard let members = families[name], let first = members.first else { continue }
            let help = MessagingMetrics.help[first.0.label] ?? first.0.label
            text += "# HELP \(name) \(escapeHelp(help))\n"
            text += "# TYPE \(name) \(first.1.kind.rawValue)\n"
            for (key, handler) in members {
                let labels = key.dimensions.map { (sanitize($0.name), $0.value) }
                switch handler {
                case .counter(let counter):
                    text += sample(name, labels, format(Double(counter.value)))
                case .gauge(let gauge):
                    text += sample(name, labels, format(gauge.value))
                case .histogram(let histogram):
                    let counts = histogram.cumulativeCounts
                    for (bound, count) in zip(histogram.bounds, counts) {
                        text += sample(name + "_bucket", labels + [("le", format(bound))], format(Double(count)))
                    }
                    let total = counts.last ?? 0
                    text += sample(name + "_bucket", labels + [("le", "+Inf")], format(Double(total)))
                    text += sample(name + "_sum", labels, format(histogram.sumSeconds))
                    text += sample(name + "_count", labels, format(Double(total)))
                }
            }
        }
        return text
    }

    /// `messaging.client.sent.messages` becomes `messaging_client_sent_messages_total`; timers are in seconds.
    static func familyName(_ label: String, kind: MetricsRegistry.Kind) -> String {
        let base = sanitize(label)
        switch kind {
        case .counter: return base.hasSuffix("_total") ? base : base + "_total"
        case .histogram: return base.hasSuffix("_seconds") ? base : base + "_seconds"
        case .gauge: return base
        }
    }

    /// Keeps `[a-zA-Z0-9_]` (and `:` for metric names is not needed); anything else becomes `_`.
    static func sanitize(_ name: String) -> String {
        var result = String(name.unicodeScalars.map { scalar -> Character in
            let isAllowed = scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_")
            return isAllowed ? Character(scalar) : "_"
        })
        if result.isEmpty || result.first?.isNumber == true { result = "_" + result }
        return result
    }

    static func sample(_ name: String, _ labels: [(String, String)], _ value: String) -> String {
        guard !labels.isEmpty else { return "\(name) \(value)\n" }
        let rendered = labels.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",")
        return "\(name){\(rendered)} \(value)\n"
    }

    static func escapeLabelValue(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
