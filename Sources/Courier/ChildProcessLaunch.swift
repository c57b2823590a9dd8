import Foundation

/// Keeps the start of a child process apart from operations that must not overlap one.
///
/// A child being started shares every open descriptor of this process until it runs its program, so a
/// listening socket closed by another thread meanwhile stays open, and listening, in the child. librdkafka
/// 2.0.2's mock cluster (``CourierKafka``'s `KafkaMockCluster`) closes a broker's listener when the broker
/// goes down and binds its port again at once; when that bind fails it aborts the whole process. A process
/// that sets mock brokers down while it starts child processes (a test run, say) starts them through
/// ``run(_:)``; the mock cluster sets brokers down inside ``excludingLaunches(_:)``.
public enum ChildProcessLaunch {
    /// One lock for both sides: a launch takes milliseconds, and so does setting a broker down.
    private static let gate = NSLock()

    /// Runs `launch`, which starts a child process (`Process.run()`, `posix_spawn`), while nothing that
    /// uses ``excludingLaunches(_:)`` runs. Returns once `launch` returns (the child runs its program by
    /// then: `posix_spawn` returns after the child's `exec`).
    public static func run<Result, Failure: Error>(_ launch: () throws(Failure) -> Result) throws(Failure) -> Result {
        gate.lock()
        defer { gate.unlock() }
        return try launch()
    }

    /// Runs `body` while no child process is being started through ``run(_:)``.
    public static func excludingLaunches<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        gate.lock()
        defer { gate.unlock() }
        return try body()
    }
}
