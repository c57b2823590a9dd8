/// How a scenario body ended.
private enum BodyEnding: Sendable {
    case finished, stalled, cancelled
}

extension ScenarioRun {
    /// Runs the scenario's body under the inactivity watchdog: when nothing happens for the inactivity
    /// timeout, the scenario fails as stalled (naming the step) and the body is cancelled.
    func executeBody() async {
        let inactivity = options.inactivityTimeout
        let ending = FirstValue<BodyEnding>()
        let body = Task {
            do {
                try await runBody()
            } catch {
                if !Task.isCancelled && !(error is CancellationError) { fail("unexpected error: \(error)") }
            }
            ending.offer(.finished)
        }
        let watchdog = Task {
            let tick = min(inactivity / 4, .milliseconds(250))
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                if activity.isStalled(inactivity: inactivity) {
                    ending.offer(.stalled)
                    return
                }
            }
        }
        let result = await withTaskCancellationHandler {
            await ending.value()
        } onCancel: {
            ending.offer(.cancelled)
        }
        watchdog.cancel()
        switch result {
        case .finished:
            return
        case .stalled:
            interrupted("stalled: nothing happened for \(inactivity) while \(activity.step)")
        case .cancelled:
            interrupted("cancelled while \(activity.step)")
        }
        body.cancel()
        _ = await finishes(within: .seconds(2)) { _ = await body.value }
    }

    /// The scenario's body.
    func runBody() async throws {
        switch scenario {
        case .publishSubscribe: try await publishSubscribe()
        case .concurrentPublish: try await concurrentPublish()
        case .manyTopics: try await manyTopics()
        case .redeliveryOnNack: try await redeliveryOnNack()
        case .noAckNoNext: try await noAckNoNext()
        case .continueAfterSubscriberClose: try await continueAfterSubscriberClose()
        case .concurrentClose: try await concurrentClose()
        case .continueAfterErrors: try await continueAfterErrors()
        case .orderPerKey: try await orderPerKey()
        case .publisherCloseFlushes: try await publisherCloseFlushes()
        case .topicIsolation: try await topicIsolation()
        case .cancellation: try await cancellation()
        case .consumerGroups: try await consumerGroups()
        case .reconnect: try await reconnect()
        case .foreignMessages: try await foreignMessages()
        case .badInput: try await badInput()
        }
    }
}
