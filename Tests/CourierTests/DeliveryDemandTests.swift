import Courier
import Synchronization
import Testing

/// `DeliveryStream.make(onClose:onDemand:)`: a transport that makes deliveries when the reader runs dry.
@Suite("DeliveryStream demand", .timeLimit(.minutes(1)))
struct DeliveryDemandTests {
    /// Stands in for a transport's queue: `onDemand` yields what it holds.
    final class Source: Sendable {
        let waiting = Mutex<[UInt64]>([])
        let asked = Mutex(0)
        let continuation = Mutex<DeliveryStream.Continuation?>(nil)
        let settler = RecordingSettler()

        func supply() {
            asked.withLock { $0 += 1 }
            let tags = waiting.withLock { tags in defer { tags = [] }; return tags }
            guard !tags.isEmpty, let continuation = continuation.withLock({ $0 }) else { return }
            continuation.yield(contentsOf: tags.map {
                Delivery(envelope: Envelope(topic: "t", text: "x"), deliveryCount: 1, source: DeliverySource(transport: "fake", topic: "t"), tag: $0, settler: settler)
            })
        }
    }

    @Test func theReaderAsksWhenItRunsDryAndGetsWhatTheTransportMakesThen() async throws {
        let source = Source()
        let (stream, continuation) = DeliveryStream.make(onClose: {}, onDemand: { source.supply() })
        source.continuation.withLock { $0 = continuation }
        source.waiting.withLock { $0 = [1, 2, 3] }
        var iterator = stream.makeAsyncIterator()
        // Nothing queued in the stream yet: the iterator asks, and the answer reaches it.
        let first = try #require(try await iterator.nextBatch())
        #expect(first.map(\.tag) == [1, 2, 3])
        #expect(source.asked.withLock { $0 } == 1)
        // Queued by the transport itself: taken without asking.
        continuation.yield(Delivery(envelope: Envelope(topic: "t", text: "y"), deliveryCount: 1, source: DeliverySource(transport: "fake", topic: "t"), tag: 4, settler: source.settler))
        #expect(try await iterator.nextBatch()?.map(\.tag) == [4])
        #expect(source.asked.withLock { $0 } == 1)
        await stream.close()
    }

    @Test func isAwaitedOnlyWhileTheReaderWaits() async throws {
        let source = Source()
        let (stream, continuation) = DeliveryStream.make(onClose: {}, onDemand: { source.supply() })
        source.continuation.withLock { $0 = continuation }
        #expect(!continuation.isAwaited)
        let reader = Task {
            var iterator = stream.makeAsyncIterator()
            return try await iterator.next()?.tag
        }
        // The reader asked (nothing to give) and now waits: the transport may yield from its own thread.
        while source.asked.withLock({ $0 }) == 0 || !continuation.isAwaited { await Task.yield() }
        continuation.yield(Delivery(envelope: Envelope(topic: "t", text: "z"), deliveryCount: 1, source: DeliverySource(transport: "fake", topic: "t"), tag: 9, settler: source.settler))
        #expect(try await reader.value == 9)
        #expect(!continuation.isAwaited)
        await stream.close()
    }
}
