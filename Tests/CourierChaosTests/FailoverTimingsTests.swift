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

    @Test func medianOfOddEvenAndEmpty() {
        #expect(FailoverTimings.median([5, 1, 3]) == 3)
        #expect(FailoverTimings.median([4, 1, 3, 2]) == 2)
        #expect(FailoverTimings.median([]) == nil)
    }
}
