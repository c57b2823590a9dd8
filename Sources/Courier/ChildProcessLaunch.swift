import Foundation

/// Keeps the start of a child process apart from operations that must not overlap one.
///
/// A child being started shares every open descriptor of this process until it runs its program, so a
/// listening socket closed by another thread meanwhile stays open, and listening, in the child. librdkafka
/// 2.0.2's mock cluster (``CourierKafka``'s `KafkaMockCluster`) closes a broker's listener when the broker
/// goes down and binds its port again at once; when that bind fails it aborts the whole process. A process
/// that sets mock brokers down while it starts child processes (a test run, say) starts them through
/// ``run(_:)``; the mock cluster sets brokers down inside ``excludingLaunches(_:)``. A child started with
/// `posix_spawn` should also keep none of those descriptors once it runs (``closeInheritedDescriptors(in:)``;
/// Foundation's `Process` closes them itself).
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

    /// Adds to `actions` the closing, in the child, of every descriptor from 3 up, so the child keeps only
    /// standard input, output and error (and what earlier actions set up). `posix_spawn` passes on every
    /// descriptor not marked close-on-exec, and a daemon the child leaves behind would hold, say, another
    /// child's pipe open for good: whoever waits for that pipe's end would wait forever. Returns false when
    /// the C library lacks the action (glibc before 2.34); the child then inherits them.
    @discardableResult
    public static func closeInheritedDescriptors(in actions: inout posix_spawn_file_actions_t) -> Bool {
        guard let addCloseFrom else { return false }
        return addCloseFrom(&actions, 3) == 0
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, looked up when first used: Swift's Glibc module
    /// leaves out glibc's GNU extensions.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Runs `body` while no child process is being started through ``run(_:)``.
    public static func excludingLaunches<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        gate.lock()
        defer { gate.unlock() }
        return try body()
    }
}
