@testable import CourierCLI
import Testing

@Suite("courier chaos and chaos-worker command lines")
struct ChaosCommandTests {
    @Test("the worker command is hidden from the command list; chaos is listed")
    func workerIsHidden() async {
        let result = await runCourier(["--help"])
        #expect(result.status == 0)
        #expect(result.out.contains("  chaos "))
        #expect(!result.out.contains("chaos-worker"))
    }

    @Test("an unknown scenario number is a usage error naming the valid ones")
    func unknownScenario() async {
        let result = await runCourier(["chaos", "--scenario", "9"])
        #expect(result.status == 2)
        #expect(result.err.contains("must be one of 1, 2, 3, 4, 5, 6"))
    }

    @Test("a worker needs its role, directory, topic and a transport")
    func workerUsage() async {
        #expect(await runCourier(["chaos-worker", "dance"]).status == 2)
        #expect(await runCourier(["chaos-worker", "produce", "--topic", "t"]).status == 2)
        let noTransport = await runCourier(["chaos-worker", "consume", "--dir", "/tmp", "--topic", "t"])
        #expect(noTransport.status == 2)
        #expect(noTransport.err.contains("--transport"))
    }
}
