/// Where a chaos run finds its tools and writes its files.
public struct ChaosEnvironment: Sendable {
    /// The `courier` executable: workers and `kafka-mock` run as child processes of it.
    public var executable: String
    /// The repository checkout, for `.ci/rabbitmq`.
    public var repositoryRoot: String
    /// Each scenario gets a directory below this for its ledgers, spool and logs.
    public var workDirectory: String
    /// The private RabbitMQ node's port (the test suite uses 5672).
    public var rabbitMQPort: Int

    public init(executable: String, repositoryRoot: String, workDirectory: String, rabbitMQPort: Int = 5673) {
        self.executable = executable
        self.repositoryRoot = repositoryRoot
        self.workDirectory = workDirectory
        self.rabbitMQPort = rabbitMQPort
    }
}

/// How big a scenario runs: `full` for `make chaos`, `short` for `make test`.
public enum ChaosSize: String, Sendable, Codable {
    case full
    case short
}
