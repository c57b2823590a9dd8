extension ConformanceSuite {
    /// Why `scenario` cannot run against this transport with these options, or `nil` when it can.
    public func skipReason(for scenario: ConformanceScenario) -> String? {
        if let gap = options.knownGaps[scenario] { return "known gap declared by the transport's test: \(gap)" }
        return switch scenario {
        case .noAckNoNext, .orderPerKey:
            capabilities.orderingPerKey ? nil
                : "the transport does not claim per-key order (orderingPerKey), so order and ordered flow control are not checked"
        case .continueAfterSubscriberClose:
            if !capabilities.consumerGroups {
                "the transport has no consumer groups, so a new subscriber instance cannot resume where the closed one stopped"
            } else if !capabilities.persistence {
                "the transport does not claim persistence, so messages need not wait for the next subscriber instance"
            } else {
                nil
            }
        case .cancellation:
            capabilities.consumerGroups ? nil
                : "the transport has no consumer groups, so re-subscribing cannot resume the cancelled subscription's messages"
        case .consumerGroups:
            capabilities.consumerGroups ? nil : "the transport does not claim consumer groups"
        case .publisherCloseFlushes:
            options.singleInstance
                ? "the transport runs as a single instance, so closing the publisher would close the subscriber too" : nil
        case .reconnect:
            options.restartBroker == nil
                ? "no way to restart the broker was given (ConformanceOptions.restartBroker)" : nil
        case .foreignMessages:
            options.publishForeign == nil
                ? "no way to publish as another client was given (ConformanceOptions.publishForeign)" : nil
        case .publishSubscribe, .concurrentPublish, .manyTopics, .redeliveryOnNack, .concurrentClose,
             .continueAfterErrors, .topicIsolation, .badInput:
            nil
        }
    }
}
