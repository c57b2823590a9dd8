import Foundation

/// Log levels, as swift-log names them.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
    // Spelled out: String(describing: self) would call this property again and recurse forever.
    public var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }
}

/// The logging hook every module uses, shaped like swift-log's `Logger` so a one-line adapter bridges it.
/// The library logs at `info` and below for normal operation.
public protocol CourierLogger: Sendable {
    func log(level: LogLevel, _ message: String, metadata: [String: String])
}

extension CourierLogger {
    public func debug(_ message: String, metadata: [String: String] = [:]) { log(level: .debug, message, metadata: metadata) }
    public func info(_ message: String, metadata: [String: String] = [:]) { log(level: .info, message, metadata: metadata) }
    public func warning(_ message: String, metadata: [String: String] = [:]) { log(level: .warning, message, metadata: metadata) }
    public func error(_ message: String, metadata: [String: String] = [:]) { log(level: .error, message, metadata: metadata) }
}

/// Discards everything.
public struct SilentLogger: CourierLogger {
    public init() {}
    public func log(level: LogLevel, _ message: String, metadata: [String: String]) {}
}

/// Writes `level message key=value ...` lines to standard error, with secrets in URLs redacted.
public struct StandardErrorLogger: CourierLogger {
    public var minimumLevel: LogLevel

    public init(minimumLevel: LogLevel = .info) { self.minimumLevel = minimumLevel }

    public func log(level: LogLevel, _ message: String, metadata: [String: String]) {
        guard level >= minimumLevel else { return }
        var line = "\(level) \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        FileHandle.standardError.write(Data((Redaction.scrub(line) + "\n").utf8))
    }
}
