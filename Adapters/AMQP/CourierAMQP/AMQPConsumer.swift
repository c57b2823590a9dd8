import Courier

/// A subscription as the connection thread tracks it, across reconnects. A class, so updating its
/// unsettled deliveries never copies them.
final class AMQPConsumer {
    /// A delivery handed out and not settled yet.
    struct Unsettled {
        var channelTag: UInt64
        var content: AMQPIncomingContent
        /// A redelivery copy is being published; settling again must wait for it.
        var isBeingRedelivered = false
    }

    let request: AMQPConsumerRequest
    let channel: UInt16
    /// The queue consumed (the broker names private queues, anew after each reconnect).
    var queue = ""
    var consumerTag = ""
    /// Bumped on every (re)subscription: tags handed out before belong to a lost channel.
    var generation = 0
    var nextTag: UInt64 = 1
    var unsettled = AMQPUnsettledDeliveries()
    /// Deliveries read in this turn of the connection thread's loop, handed to the stream together.
    var ready: [Delivery] = []
    var readyTags: [UInt64] = []

    /// Where its deliveries come from: the same for every one.
    let source: DeliverySource

    init(request: AMQPConsumerRequest, channel: UInt16, transport: String) {
        self.request = request
        self.channel = channel
        source = DeliverySource(transport: transport, topic: request.subscription.topic, group: request.subscription.group)
    }

    /// The channel tag below which every delivery is settled (`.max` when none is outstanding): acks under
    /// it can be merged into one `multiple` ack.
    func lowestUnsettledChannelTag() -> UInt64 { unsettled.lowestChannelTag }

    var subscription: Subscription { request.subscription }
    var isPrivate: Bool { request.subscription.group == nil }
}

/// A consumer's unsettled deliveries by tag. Tags are handed out one after another and mostly settled in
/// about that order, so they live in a window of slots from the oldest unsettled tag on: adding, finding
/// and removing one is an index, not a hash, and the oldest is the first slot.
struct AMQPUnsettledDeliveries {
    /// Slot `head + i` holds tag `base + i` (nil once settled); slots before `head` are spent.
    private var slots: [AMQPConsumer.Unsettled?] = []
    private var head = 0
    private var base: UInt64 = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    private func index(_ tag: UInt64) -> Int? {
        guard tag >= base, tag - base < UInt64(slots.count - head) else { return nil }
        return head + Int(tag - base)
    }

    subscript(tag: UInt64) -> AMQPConsumer.Unsettled? {
        get { index(tag).flatMap { slots[$0] } }
        set {
            if let index = index(tag) {
                if slots[index] == nil, newValue != nil { count += 1 }
                if slots[index] != nil, newValue == nil { count -= 1 }
                slots[index] = newValue
                dropSettledFront()
            } else if let newValue {
                insert(newValue, forTag: tag)
            }
        }
    }

    /// Adds an unsettled delivery (one not in the window yet).
    mutating func insert(_ entry: consuming AMQPConsumer.Unsettled, forTag tag: UInt64) {
        if let index = index(tag) {
            if slots[index] == nil { count += 1 }
            slots[index] = entry
            return
        }
        add(tag, entry)
    }

    /// Removes `tag` and returns its channel tag, without copying the entry out.
    mutating func removeChannelTag(forKey tag: UInt64) -> UInt64? {
        guard let index = index(tag), let channelTag = slots[index]?.channelTag else { return nil }
        slots[index] = nil
        count -= 1
        dropSettledFront()
        return channelTag
    }

    @discardableResult
    mutating func removeValue(forKey tag: UInt64) -> AMQPConsumer.Unsettled? {
        guard let index = index(tag), let entry = slots[index] else { return nil }
        slots[index] = nil
        count -= 1
        dropSettledFront()
        return entry
    }

    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        head = 0
        count = 0
    }

    /// The channel tag of the oldest unsettled delivery (`.max` when none is): every delivery of the channel
    /// below it is settled. Channel tags grow with the tags, since both count the channel's deliveries.
    var lowestChannelTag: UInt64 {
        guard count > 0, head < slots.count, let first = slots[head] else { return .max }
        return first.channelTag
    }

    /// A tag outside the window: the next one (the usual case), or one further on or before it.
    private mutating func add(_ tag: UInt64, _ entry: consuming AMQPConsumer.Unsettled) {
        if count == 0 {
            slots.removeAll(keepingCapacity: true)
            head = 0
            base = tag
        } else if tag < base {
            slots.replaceSubrange(head..<head, with: repeatElement(nil, count: Int(base - tag)))
            base = tag
        } else {
            let gap = Int(tag - base) - (slots.count - head)
            if gap > 0 { slots.append(contentsOf: repeatElement(nil, count: gap)) }
        }
        guard let index = index(tag) else {
            slots.append(entry)
            count += 1
            return
        }
        slots[index] = entry
        count += 1
    }

    /// Moves the window past settled slots at its front, and drops spent slots once they are half of it.
    private mutating func dropSettledFront() {
        while head < slots.count, slots[head] == nil {
            head += 1
            base += 1
        }
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= slots.count {
            slots.removeSubrange(0..<head)
            head = 0
        }
    }
}
