import CourierChaos
import Testing

@Suite struct FailoverTimingsTests {
    private typealias Answer = ProducerTimeline.Answer

    @Test func timesDetectionFallbackAndFailbackPerFault() {
        let timeline = ProducerTimeline(
            answers: [
                Answer(atMilliseconds: 900, transport: "kafka"),
                Answer(atMilliseconds: 1_400, transport: "rabbitmq"),  // first fallback answer, 400 ms after the fault
                Answer(atMilliseconds: 3_000, transport: "rabbitmq"),
                Answer(atMilliseconds: 6_500, transport: "kafka"),     // back on kafka 1.5 s after recovery
            ],
            failovers: [1_300]
        )
        let fault = FaultRecord(kind: "kafka down", startedAtMilliseconds: 1_000, endedAtMilliseconds: 5_000, takesPrimaryDown: true)
        let timings = FailoverTimings(faults: [fault], timeline: timeline, primary: "kafka")
        #expect(timings.detect == [300])
        #expect(timings.firstFallbackAnswer == [400])
        #expect(timings.failback == [1_500])
        #expect(timings.missing == 0)
    }

    @Test func aSpooledAnswerIsAFallbackAnswer() {
        let timeline = ProducerTimeline(answers: [Answer(atMilliseconds: 1_050, transport: nil), Answer(atMilliseconds: 2_200, transport: "rabbitmq")], failovers: [])
        let fault = FaultRecord(kind: "rabbitmq killed", startedAtMilliseconds: 1_000, endedAtMilliseconds: 2_000, takesPrimaryDown: true)
        let timings = FailoverTimings(faults: [fault], timeline: timeline, primary: "rabbitmq")
        #expect(timings.detect == [50])
        #expect(timings.firstFallbackAnswer == [50])
        #expect(timings.failback == [200])
    }

    @Test func faultsThatKeepThePrimaryAreNotTimedAndMissingReturnsAreCounted() {
        let timeline = ProducerTimeline(answers: [Answer(atMilliseconds: 100, transport: "kafka")], failovers: [])
        let faults = [
            FaultRecord(kind: "leader move", startedAtMilliseconds: 50, endedAtMilliseconds: 60, takesPrimaryDown: false),
            FaultRecord(kind: "kafka down", startedAtMilliseconds: 200, endedAtMilliseconds: 300, takesPrimaryDown: true),
        ]
        let timings = FailoverTimings(faults: faults, timeline: timeline, primary: "kafka")
        #expect(timings.detect.isEmpty && timings.firstFallbackAnswer.isEmpty && timings.failback.isEmpty)
        #expect(timings.missing == 2) // never noticed, never came back
    }

    @Test func timesTheSpoolEmptyingAfterRecovery() {
        typealias Change = ProducerTimeline.SpoolChange
        let timeline = ProducerTimeline(
            answers: [Answer(atMilliseconds: 1_100, transport: nil), Answer(atMilliseconds: 2_500, transport: "rabbitmq")],
            failovers: [],
            spoolChanges: [
                Change(atMilliseconds: 1_100, change: 1), Change(atMilliseconds: 1_200, change: 1),
                Change(atMilliseconds: 2_500, change: -1), Change(atMilliseconds: 2_600, change: 1),  // queued behind the backlog
                Change(atMilliseconds: 3_000, change: -1), Change(atMilliseconds: 3_400, change: -1),  // empty at 3.4 s
            ]
        )
        let fault = FaultRecord(kind: "rabbitmq killed", startedAtMilliseconds: 1_000, endedAtMilliseconds: 2_000, takesPrimaryDown: true)
        let timings = FailoverTimings(faults: [fault], timeline: timeline, primary: "rabbitmq")
        #expect(timings.failback == [500])
        #expect(timings.spoolDrained == [1_400])
    }

    @Test func aFaultThatFindsABacklogIsCountedNotTimed() {
        typealias Change = ProducerTimeline.SpoolChange
        let timeline = ProducerTimeline(
            answers: [Answer(atMilliseconds: 500, transport: nil), Answer(atMilliseconds: 1_010, transport: nil), Answer(atMilliseconds: 2_300, transport: "rabbitmq")],
            failovers: [],
            spoolChanges: [Change(atMilliseconds: 500, change: 1), Change(atMilliseconds: 1_010, change: 1), Change(atMilliseconds: 2_300, change: -1)]
        )
        let fault = FaultRecord(kind: "rabbitmq killed again", startedAtMilliseconds: 1_000, endedAtMilliseconds: 2_000, takesPrimaryDown: true)
        let timings = FailoverTimings(faults: [fault], timeline: timeline, primary: "rabbitmq")
        #expect(timings.startedWhileSpooling == 1)
        #expect(timings.detect.isEmpty && timings.firstFallbackAnswer.isEmpty)
        #expect(timings.failback == [300])
    }

    @Test func medianOfOddEvenAndEmpty() {
        #expect(FailoverTimings.median([5, 1, 3]) == 3)
        #expect(FailoverTimings.median([4, 1, 3, 2]) == 2)
        #expect(FailoverTimings.median([]) == nil)
    }
}
