import Synchronization
import Testing

/// `.ci/rabbitmq` itself: every node it runs shares the machine's one epmd, and its `stop` drops an idle epmd.
@Suite struct BrokerScriptTests {
    /// A stop that runs while another node boots must leave epmd alone: a node that loses epmd before it has
    /// registered dies with "nodistribution" (CI saw the chaos tests' node fail so while another test restarted
    /// the broker on 5672). Ports 5674 and 5675 keep clear of the test broker and the chaos node, and both nodes
    /// use an epmd of their own on 4370: in the machine's epmd the test broker's registration would keep it alive.
    @Test func aNodeBootsWhileAnotherNodeIsStoppedOverAndOver() async throws {
        let bootingPort = 5674
        let stoppedPort = 5675
        let epmdPort = 4370
        let bootEnded = Mutex(false)
        let boot = Task {
            defer { bootEnded.withLock { $0 = true } }
            try await BrokerControl.script("start", label: "start-\(bootingPort)", port: bootingPort, epmdPort: epmdPort)
        }
        var stops = 0
        // The node on 5675 never runs: each stop finds nothing to stop and goes straight to the epmd check.
        while !bootEnded.withLock({ $0 }) {
            try await BrokerControl.script("stop", label: "stop-\(stoppedPort)", port: stoppedPort, epmdPort: epmdPort)
            stops += 1
        }
        let booted = await boot.result
        try await BrokerControl.script("stop", label: "stop-\(bootingPort)", port: bootingPort, epmdPort: epmdPort)
        try booted.get()
        #expect(stops > 10, "only \(stops) stops ran during the boot, too few to have raced it")
    }
}
