@testable import Courier
import Testing

@Suite("consumer: idempotency holder tokens")
struct HolderSequenceTests {
    @Test("tokens differ across workers and within one worker's sequence")
    func tokensAreDistinct() {
        let base = UInt64(0x1234_5678_9ABC_DEF0)
        var tokens: Set<UInt64> = []
        for worker in 0..<8 {
            var holders = HolderSequence(base: base, worker: worker)
            for _ in 0..<1_000 { tokens.insert(holders.next().token) }
        }
        #expect(tokens.count == 8_000)
        #expect(!tokens.contains(IdempotencyHolder.anyone.token))
    }

    @Test("a token that would be 0 (anyone's) is 1 instead")
    func neverAnyone() {
        var holders = HolderSequence(base: .max, worker: 0)
        #expect(holders.next() == IdempotencyHolder(token: 1))
    }
}
