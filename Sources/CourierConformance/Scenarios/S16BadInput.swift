import Courier

extension ScenarioRun {
    /// 16. Oversized and malformed input gets a clear error (a non-retriable ``CourierError`` with the
    /// right code and a message), and the same transport then publishes and delivers normally.
    func badInput() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let transport = try await makeTransport()
        _ = try await subscribeAndConsume(transport, topic: topic, into: ledger, member: "subscriber")
        activity.begin("publishing oversized and malformed messages")

        if let limit = capabilities.maxMessageBytes {
            let oversized = Envelope(topic: topic, payload: Array(repeating: 0x61, count: limit + 1), id: "\(idPrefix)oversized")
            await expectRejection("a payload of \(limit + 1) bytes (limit \(limit))", codes: [.messageTooLarge]) {
                _ = try await transport.publish(oversized)
            }
        } else {
            note("no oversize check: the transport declares no maxMessageBytes")
        }
        var emptyTopic = message(0, topic: topic, label: "bad")
        emptyTopic.topic = ""
        await expectRejection("an empty topic", codes: [.invalidMessage]) { _ = try await transport.publish(emptyTopic) }
        var emptyID = message(1, topic: topic, label: "bad")
        emptyID.id = ""
        await expectRejection("an empty id", codes: [.invalidMessage]) { _ = try await transport.publish(emptyID) }
        var badPriority = message(2, topic: topic, label: "bad")
        badPriority.priority = Envelope.maxPriority + 1
        await expectRejection("priority \(Envelope.maxPriority + 1)", codes: [.invalidMessage]) { _ = try await transport.publish(badPriority) }
        await expectRejection("a subscription to an empty topic", codes: [.invalidConfiguration]) {
            _ = try await transport.subscribe(Subscription(topic: ""))
        }
        await expectRejection("a subscription with prefetch 0", codes: [.invalidConfiguration]) {
            _ = try await transport.subscribe(Subscription(topic: topic, prefetch: 0))
        }

        // The same transport keeps working.
        await publishInOrder((0..<3).map { message($0, topic: topic) }, via: transport, into: ledger)
        try await waitForEverything(in: [ledger])
    }

    /// Runs `body` and fails the scenario unless it throws a non-retriable ``CourierError`` with one of
    /// `codes` and a message.
    private func expectRejection(_ input: String, codes: Set<CourierError.Code>, _ body: () async throws -> Void) async {
        do {
            try await body()
            fail("\(input) was accepted; it must be refused with \(codes.map(\.rawValue).sorted().joined(separator: " or "))")
        } catch let error as CourierError {
            if !codes.contains(error.code) {
                fail("\(input) was refused with code \(error.code), expected \(codes.map(\.rawValue).sorted().joined(separator: " or ")): \(error.message)")
            } else if error.isRetriable {
                fail("\(input) was refused with a retriable error, but resending cannot help: \(error)")
            } else if error.message.isEmpty {
                fail("\(input) was refused with code \(error.code) but no message")
            } else {
                note("\(input): \(error.code): \(shortened(error.message, to: 120))")
            }
        } catch {
            fail("\(input) was refused with \(type(of: error)), not a CourierError: \(error)")
        }
    }
}
