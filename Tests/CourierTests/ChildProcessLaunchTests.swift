import Courier
import Foundation
import Testing

/// A child started with ``ChildProcessLaunch/closeInheritedDescriptors(in:)`` keeps none of this process's
/// descriptors above standard error: a pipe of ours ends when we close our end, whatever the child does.
@Suite struct ChildProcessLaunchTests {
    /// With the action the child does not hold our pipe; without it (the control, so the check can fail) it does.
    @Test(arguments: [true, false])
    func aChildHoldsOurPipeOpenOnlyWithoutTheAction(closingInherited: Bool) throws {
        let (readEnd, writeEnd) = try PipeEnds.make()
        defer { close(readEnd) }
        let child = try spawnSleep(closingInherited: closingInherited)
        defer { stop(child) }
        close(writeEnd)
        let ended = PipeEnds.endOfInput(readEnd, within: closingInherited ? .seconds(2) : .milliseconds(300))
        #expect(ended == closingInherited, "closing inherited descriptors: \(closingInherited), end of input seen: \(ended)")
    }

    private func spawnSleep(closingInherited: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if closingInherited { #expect(ChildProcessLaunch.closeInheritedDescriptors(in: &actions)) }
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sleep", "10"].map { (word: String) in strdup(word) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = ChildProcessLaunch.run { posix_spawn(&pid, "/bin/sleep", &actions, nil, argv, environ) }
        guard status == 0 else { throw CourierError(.unavailable, "posix_spawn /bin/sleep failed: \(status)") }
        return pid
    }

    private func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}

/// A pipe whose ends are not close-on-exec (as Foundation's `Pipe` makes them), and a wait for its end.
enum PipeEnds {
    static func make() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CourierError(.unavailable, "pipe failed: errno \(errno)") }
        return (ends[0], ends[1])
    }

    /// True when reading `descriptor` reports end of input within `limit`.
    static func endOfInput(_ descriptor: Int32, within limit: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        return read(descriptor, &byte, 1) == 0
    }
}
