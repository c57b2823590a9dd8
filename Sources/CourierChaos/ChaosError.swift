/// A chaos run could not do what it set out to (a process, a broker or a ledger failed), as opposed
/// to a scenario that ran and failed its checks.
public struct ChaosError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
