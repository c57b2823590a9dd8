import Courier
import Foundation

/// An order as the `orders` topic carries it (JSON).
public struct Order: Codable, Sendable, Equatable {
    public var number: String
    public var amountCents: Int

    public init(number: String, amountCents: Int) {
        self.number = number
        self.amountCents = amountCents
    }
}

/// The side effect the handler performs: charging a customer. Records each charge under the message's
/// idempotency key, so a redelivered or duplicated message charges once.
public actor PaymentLedger {
    public private(set) var charges: [String: Order] = [:]
    /// Charge requests that were ignored because their key was charged already.
    public private(set) var duplicatesIgnored = 0

    public init() {}

    /// Charges `order` unless `key` was charged already; returns whether it charged.
    @discardableResult
    public func charge(_ order: Order, idempotencyKey key: String) -> Bool {
        guard charges[key] == nil else {
            duplicatesIgnored += 1
            return false
        }
        charges[key] = order
        return true
    }
}

/// Consumes `orders`: charges each order once, acks it, and rejects payloads that are not orders (a
/// redelivery would not make them valid).
public struct OrderHandler: Sendable {
    public let ledger: PaymentLedger

    public init(ledger: PaymentLedger) { self.ledger = ledger }

    public func handle(_ delivery: Delivery) async throws {
        guard let order = try? JSONDecoder().decode(Order.self, from: Data(delivery.envelope.payload)) else {
            try await delivery.reject()
            return
        }
        await ledger.charge(order, idempotencyKey: delivery.envelope.idempotencyKey)
        try await delivery.ack()
    }

    /// Handles deliveries until the subscription ends.
    public func run(_ deliveries: DeliveryStream) async throws {
        for try await delivery in deliveries { try await handle(delivery) }
    }
}
