import Courier
import Synchronization
import Testing

@Suite("Latch and OnceAction", .timeLimit(.minutes(1)))
struct LatchTests {
    @Test func waitReturnsAtOnceWhenOpen() async {
        let latch = Latch()
        #expect(!latch.isOpen)
        latch.open()
        #expect(latch.isOpen)
        await latch.wait()
        latch.open()  // opening twice is harmless
        await latch.wait()
        #expect(latch.isOpen)
    }

    @Test func openReleasesEveryWaiter() async {
        let latch = Latch()
        let released = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await latch.wait()
                    released.increment()
                }
            }
            group.addTask {
                await Task.yield()
                latch.open()
            }
            await group.waitForAll()
        }
        #expect(released.value == 20)
    }

    @Test func concurrentRunsRunTheActionOnceAndAllReturnAfterIt() async {
        let runs = Counter()
        let finished = Flag()
        let started = Latch()
        let gate = Latch()
        let once = OnceAction {
            runs.increment()
            started.open()
            await gate.wait()
            finished.set()
        }
        let callers = 16
        let entered = Counter()
        let sawFinished = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    entered.increment()
                    await once.run()
                    return finished.isSet
                }
            }
            // Hold the action until every caller has reached run(), so the losers really wait.
            await started.wait()
            var spins = 0
            while entered.value < callers, spins < 100_000 {
                await Task.yield()
                spins += 1
            }
            gate.open()
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(sawFinished.count == callers)
        #expect(sawFinished.allSatisfy { $0 }, "every run() must return only after the action finished")
        #expect(runs.value == 1)

        await once.run()
        #expect(runs.value == 1)
    }
}
