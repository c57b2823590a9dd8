@testable import CourierChaos
import Foundation
import Testing

/// The driver's children inherit nothing of the driver but standard input, output and error: a worker or
/// broker daemon holding another child's pipe would keep that child from ever seeing its end of input.
@Suite struct ChildProcessTests {
    @Test func aChildDoesNotHoldTheDriversOtherPipesOpen() async throws {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("courier-child-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess(name: "sleep", executable: "/bin/sleep", arguments: ["10"], logPath: log)
        close(ends[1])
        var entry = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, 2000)
        var byte: UInt8 = 0
        let endOfInput = ready == 1 && read(ends[0], &byte, 1) == 0
        await child.crash()
        #expect(endOfInput, "the child still holds the write end of a pipe the driver made")
    }
}
