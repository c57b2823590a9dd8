/// Which offsets of one partition were handed out and which are settled, to find the offset that is
/// safe to commit: the lowest one not yet settled (everything before it is done), or the next after
/// the last when all are. Deliveries may be settled in any order; the commit point only moves forward.
struct KafkaPartitionProgress {
    private var offsets: [Int64] = []
    private var settled: [Bool] = []
    private var head = 0
    private var lastCommitPoint: Int64?

    /// Records a message read at `offset` (offsets arrive in ascending order).
    mutating func track(_ offset: Int64) {
        if let last = offsets.last, offset <= last { return }
        offsets.append(offset)
        settled.append(false)
    }

    /// Marks `offset` settled; returns the new commit point when it moved forward.
    mutating func settle(_ offset: Int64) -> Int64? {
        guard let index = position(of: offset), !settled[index] else { return nil }
        settled[index] = true
        while head < offsets.count, settled[head] { head += 1 }
        guard let last = offsets.last else { return nil }
        let point = head < offsets.count ? offsets[head] : last + 1
        if head > 1024, head * 2 > offsets.count {
            offsets.removeFirst(head)
            settled.removeFirst(head)
            head = 0
        }
        guard point > (lastCommitPoint ?? Int64.min) else { return nil }
        lastCommitPoint = point
        return point
    }

    private func position(of offset: Int64) -> Int? {
        // Offsets are usually consecutive (gaps only where a compacted or transactional topic has them):
        // then the offset's distance from the first open one is its place.
        if head < offsets.count {
            let distance = offset &- offsets[head]
            if distance >= 0, distance < Int64(offsets.count - head), offsets[head + Int(distance)] == offset {
                return head + Int(distance)
            }
        }
        var low = head
        var high = offsets.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if offsets[middle] == offset { return middle }
            if offsets[middle] < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}
