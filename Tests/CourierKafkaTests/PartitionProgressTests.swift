import Testing
@testable import CourierKafka

/// The commit point of a partition: the lowest offset read and not settled, or the next after the last
/// when every one is; it only moves forward, whatever order deliveries are settled in.
@Suite("Kafka partition progress")
struct PartitionProgressTests {
    @Test("settled in order, the commit point follows each settlement")
    func inOrder() {
        var progress = KafkaPartitionProgress()
        for offset in Int64(10)..<15 { progress.track(offset) }
        #expect((10..<15).map { progress.settle($0) } == [11, 12, 13, 14, 15])
    }

    @Test("settled out of order, the point waits for the lowest open offset, then jumps")
    func outOfOrder() {
        var progress = KafkaPartitionProgress()
        for offset in Int64(0)..<5 { progress.track(offset) }
        // The first settlement reports where the partition stands (nothing is claimed done beyond it).
        #expect(progress.settle(3) == 0)
        #expect(progress.settle(1) == nil)
        #expect(progress.settle(0) == 2)
        #expect(progress.settle(2) == 4)
        #expect(progress.settle(4) == 5)
    }

    @Test("offsets with gaps (compacted topics, transaction markers): each is found, the point skips the gaps")
    func gaps() {
        var progress = KafkaPartitionProgress()
        for offset: Int64 in [5, 6, 9, 10, 20] { progress.track(offset) }
        #expect(progress.settle(9) == 5)
        #expect(progress.settle(5) == 6)
        #expect(progress.settle(6) == 10)
        #expect(progress.settle(20) == nil)
        #expect(progress.settle(10) == 21)
    }

    @Test("an offset never read, settled twice, or read twice changes nothing")
    func unknownAndRepeated() {
        var progress = KafkaPartitionProgress()
        for offset: Int64 in [1, 2, 2, 3] { progress.track(offset) }
        #expect(progress.settle(7) == nil)
        #expect(progress.settle(0) == nil)
        #expect(progress.settle(1) == 2)
        #expect(progress.settle(1) == nil)
        #expect(progress.settle(3) == nil)
        #expect(progress.settle(2) == 4)
    }

    @Test("after thousands of settlements (the settled prefix is dropped) offsets are still found")
    func longRun() {
        var progress = KafkaPartitionProgress()
        for offset in Int64(0)..<5000 { progress.track(offset * 2) }
        var points: [Int64] = []
        for offset in Int64(0)..<4999 {
            if let point = progress.settle(offset * 2) { points.append(point) }
        }
        #expect(points.count == 4999 && points.last == 9998)
        #expect(progress.settle(9998) == 9999)
    }
}
