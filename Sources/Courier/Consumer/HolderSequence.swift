/// One consumer worker's idempotency holder tokens: the consumer's random base plus the worker in the top
/// 16 bits and the worker's own count below, so a release frees only the claim it took, without a counter
/// that every worker writes for every message.
struct HolderSequence: ~Copyable {
    private let base: UInt64
    private let worker: UInt64
    private var count: UInt64 = 0

    init(base: UInt64, worker: Int) {
        self.base = base
        self.worker = UInt64(truncatingIfNeeded: worker) << 48
    }

    mutating func next() -> IdempotencyHolder {
        count = (count &+ 1) & 0xFFFF_FFFF_FFFF
        let token = base &+ (worker | count)
        // Never 0, which is ``IdempotencyHolder/anyone``.
        return IdempotencyHolder(token: token == 0 ? 1 : token)
    }
}
