import Foundation

/// The machine a chaos run ran on, for the report.
public struct MachineDescription: Sendable {
    public var cpu: String
    public var cores: Int
    public var memory: String
    public var system: String
    public var toolchain: String
    public var rabbitMQVersion: String
    public var librdkafkaVersion: String
    public var sqliteVersion: String
    /// Load at the end of the run, and who else was using the machine.
    public var load: String

    /// Reads /proc and the package database; `note` says what else ran on the machine.
    public static func current(note: String) -> MachineDescription {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let memInfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let kilobytes = memInfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let release = (try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return MachineDescription(
            cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
            memory: String(format: "%.1f GiB RAM", Double(kilobytes) / 1_048_576), system: "Debian \(release), Linux \(kernel)",
            toolchain: swiftVersion(), rabbitMQVersion: packageVersion("rabbitmq-server"),
            librdkafkaVersion: packageVersion("librdkafka1"), sqliteVersion: packageVersion("libsqlite3-0"),
            load: "load average at the end of the run: \(load); \(note)"
        )
    }

    private static func packageVersion(_ package: String) -> String {
        let path = "/var/lib/dpkg/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return "?" }
        for stanza in status.components(separatedBy: "\n\n") where stanza.hasPrefix("Package: \(package)\n") {
            if let line = stanza.split(separator: "\n").first(where: { $0.hasPrefix("Version: ") }) {
                return String(line.dropFirst("Version: ".count))
            }
        }
        return "?"
    }

    private static func swiftVersion() -> String {
        #if swift(>=6.3)
        return "Swift 6.3 or later"
        #else
        return "Swift 6"
        #endif
    }
}
