import Courier

/// A subscriber attached to a group.
struct MemoryMember {
    let id: UInt64
    /// Identifies the transport that subscribed, so its shutdown closes only its own members.
    let owner: ObjectIdentifier
    let prefetch: Int
    let continuation: DeliveryStream.Continuation
    /// What the member's deliveries share (see ``MemberSettler``).
    let settler: MemberSettler
    var inFlight = 0
}

/// What a group knows of one offset until it is settled for good.
struct OffsetBooks {
    /// How often it has been delivered.
    private(set) var deliveries = 0
    /// How many of those deliveries are out now (an injected duplicate makes it two).
    private(set) var outstanding = 0

    mutating func handedOut() {
        deliveries += 1
        outstanding += 1
    }

    /// One delivery settled or returned; the books after it.
    mutating func cameBack() -> OffsetBooks {
        outstanding = max(0, outstanding - 1)
        return self
    }
}

/// A delivery handed out and not yet settled.
struct InFlightDelivery {
    let offset: Int64
    let member: UInt64
    let key: String?
}

/// One consumer group's position in a topic: like a Kafka group's offsets plus RabbitMQ's unacked set.
///
/// A class, so a member's settler reaches its group's books directly: a settlement then hashes no topic or
/// group name, and changes the books in place instead of taking them out of their dictionaries and putting
/// them back (each a string hash, under the lock every core's settlements take). Unchecked `Sendable`:
/// its books are read and written only under its broker's lock; its name and kind are constants.
final class MemoryGroup: @unchecked Sendable {
    let name: String
    /// A private group belongs to one subscription with no group name and vanishes with it.
    let isPrivate: Bool
    /// Offsets below the cursor have all been handed out at least once.
    var cursor: Int64
    /// Offsets below the cursor to hand out again (requeued, or returned by a lost member), ascending.
    var waiting: [Int64] = []
    var inFlight: [UInt64: InFlightDelivery] = [:]
    /// What the group knows of each offset delivered and not yet settled for good: one entry, so a
    /// delivery and its settlement each look the offset up once.
    var offsets: [Int64: OffsetBooks] = [:]
    /// How many deliveries of each ordering key are in flight (duplicates can make it more than one).
    var keysInFlight: [String: Int] = [:]
    var members: [MemoryMember] = []
    var nextMember = 0
    /// Offsets waiting out a redelivery delay; they come back into `waiting` when it ends.
    var delayed: Set<Int64> = []
    /// Per-group copies of messages whose headers a redelivery changed.
    var overrides: [Int64: Envelope] = [:]

    init(name: String, isPrivate: Bool, cursor: Int64) {
        self.name = name
        self.isPrivate = isPrivate
        self.cursor = cursor
    }

    /// Everything below this offset is settled for the group, so the topic may drop it.
    var lowWatermark: Int64 {
        var mark = cursor
        if let first = waiting.first { mark = min(mark, first) }
        for delivery in inFlight.values { mark = min(mark, delivery.offset) }
        for offset in delayed { mark = min(mark, offset) }
        return mark
    }

    /// Puts `offset` back in line, keeping `waiting` sorted and free of repeats.
    func requeue(_ offset: Int64) {
        var low = 0, high = waiting.count
        while low < high {
            let middle = (low + high) / 2
            if waiting[middle] < offset { low = middle + 1 } else { high = middle }
        }
        if low < waiting.count, waiting[low] == offset { return }
        waiting.insert(offset, at: low)
    }

    /// Drops the bookkeeping of an offset that is settled for good.
    func forget(_ offset: Int64) {
        offsets[offset] = nil
        if !overrides.isEmpty { overrides[offset] = nil }
    }

    /// How often `offset` has been delivered to the group.
    func deliveries(of offset: Int64) -> Int { offsets[offset]?.deliveries ?? 0 }

    /// Records a delivery handed out.
    func track(tag: UInt64, _ delivery: InFlightDelivery) {
        inFlight[tag] = delivery
        offsets[delivery.offset, default: OffsetBooks()].handedOut()
        if let key = delivery.key { keysInFlight[key, default: 0] += 1 }
    }

    /// Removes a settled or returned delivery from the in-flight books; returns it with its offset's books
    /// as they are now.
    func release(tag: UInt64) -> (delivery: InFlightDelivery, books: OffsetBooks)? {
        guard let delivery = inFlight.removeValue(forKey: tag) else { return nil }
        let books = offsets[delivery.offset, default: OffsetBooks()].cameBack()
        if let key = delivery.key {
            let remaining = (keysInFlight[key] ?? 1) - 1
            keysInFlight[key] = remaining > 0 ? remaining : nil
        }
        if let index = members.firstIndex(where: { $0.id == delivery.member }) {
            members[index].inFlight -= 1
        }
        return (delivery, books)
    }

    /// Returns every in-flight delivery of the members matching `predicate` to the line.
    func returnInFlight(where predicate: (InFlightDelivery) -> Bool) {
        for (tag, delivery) in inFlight where predicate(delivery) {
            _ = release(tag: tag)
            requeue(delivery.offset)
        }
    }

    /// The member that should take the next delivery (round robin among those under their prefetch).
    /// Only a delivery passes the turn on (see ``passTurn(after:)``): asking when nothing is waiting
    /// must not, or one member would get every message.
    func nextMemberWithRoom() -> Int? {
        guard !members.isEmpty else { return nil }
        for step in 0..<members.count {
            let index = (nextMember + step) % members.count
            if members[index].inFlight < members[index].prefetch { return index }
        }
        return nil
    }

    /// Whether a settlement should hand out more right away: some member is down to half its prefetch,
    /// or, with a prefetch of 16 or less, has any room. Otherwise deliveries go out in batches, when a
    /// member falls to half or its reader runs dry (the stream's `onDemand`): a refill per settlement held
    /// the broker's lock for a whole hand-off on every ack, and handlers acking on two threads spent more
    /// time waiting for that lock than handling messages.
    var wantsRefill: Bool {
        members.contains { member in
            member.inFlight < member.prefetch && (member.prefetch <= Self.smallPrefetch || member.inFlight <= member.prefetch / 2)
        }
    }

    /// Up to this prefetch a member is refilled on every settlement (see ``wantsRefill``).
    static let smallPrefetch = 16

    /// The member at `index` was handed a delivery; the next one is the following member's turn.
    func passTurn(after index: Int) {
        nextMember = (index + 1) % members.count
    }
}

/// A topic: a log of messages, retained up to a capacity, and the groups reading it.
struct MemoryTopic {
    /// How far past the cursor dispatch looks for a message whose key is free.
    static let scanWindow: Int64 = 4096

    var messages: [Envelope] = []
    /// The offset of `messages[0]`.
    var baseOffset: Int64 = 0
    var groups: [String: MemoryGroup] = [:]
    /// Set once any message carries a priority, so dispatch without priorities stays a cheap scan.
    var hasPriorities = false

    var endOffset: Int64 { baseOffset + Int64(messages.count) }

    func message(at offset: Int64) -> Envelope { messages[Int(offset - baseOffset)] }

    /// The message as `group` sees it: with the headers a redelivery merged in, if any.
    func message(at offset: Int64, for group: MemoryGroup) -> Envelope {
        if group.overrides.isEmpty { return message(at: offset) }
        return group.overrides[offset] ?? message(at: offset)
    }

    /// What dispatch needs of a message, read in place: copying the whole envelope costs a reference count
    /// per field, for every message dispatch looks at. Overrides change headers only, so these are the
    /// same for every group.
    func orderingKeyAndPriority(at offset: Int64) -> (key: String?, priority: UInt8) {
        let index = Int(offset - baseOffset)
        return (messages[index].orderingKey, messages[index].priority ?? 0)
    }

    mutating func append(_ envelope: Envelope) -> Int64 {
        messages.append(envelope)
        if envelope.priority != nil { hasPriorities = true }
        return endOffset - 1
    }

    /// Drops messages every group has settled. With no group yet, everything is kept for the first one.
    mutating func trim() {
        guard !groups.isEmpty else { return }
        let mark = groups.values.map(\.lowWatermark).min() ?? baseOffset
        guard mark > baseOffset else { return }
        messages.removeFirst(Int(mark - baseOffset))
        baseOffset = mark
    }

    /// Drops `group` if it is private and its last member went.
    mutating func dropIfAbandoned(_ group: MemoryGroup) {
        if group.isPrivate && group.members.isEmpty { groups[group.name] = nil }
    }

    /// Picks the next offset `group` may receive, or `nil`: per ordering key only the oldest waiting
    /// message is eligible and only when no message of that key is in flight; among eligible messages the
    /// highest priority wins, then the lowest offset. Moves the cursor and `waiting` accordingly.
    func takeNext(for group: MemoryGroup) -> Int64? {
        var pick = Pick()
        var done = false
        for (index, offset) in group.waiting.enumerated() where !done {
            done = consider(offset, waitingIndex: index, for: group, into: &pick)
        }
        var offset = group.cursor
        let limit = min(endOffset, group.cursor + Self.scanWindow)
        while !done, offset < limit {
            done = consider(offset, waitingIndex: nil, for: group, into: &pick)
            offset += 1
        }
        guard let chosen = pick.best else { return nil }
        if let index = chosen.fromWaiting {
            group.waiting.remove(at: index)
        } else {
            // Offsets skipped between the cursor and the chosen one wait their turn.
            for skipped in group.cursor..<chosen.offset { group.waiting.append(skipped) }
            group.cursor = chosen.offset + 1
        }
        return chosen.offset
    }

    /// What ``takeNext(for:)`` found so far. A struct passed along rather than variables a nested function
    /// captures: captured variables are checked for exclusive access at run time, on every message.
    private struct Pick {
        var seenKeys: Set<String> = []
        var best: (offset: Int64, priority: UInt8, fromWaiting: Int?)?
    }

    /// Looks at `offset` for ``takeNext(for:)``, recording it in `pick` when it is eligible and better;
    /// returns whether the search can stop.
    private func consider(_ offset: Int64, waitingIndex: Int?, for group: MemoryGroup, into pick: inout Pick) -> Bool {
        let (orderingKey, priority) = orderingKeyAndPriority(at: offset)
        if let key = orderingKey {
            let blocked = pick.seenKeys.contains(key) || group.keysInFlight[key] != nil
            pick.seenKeys.insert(key)
            if blocked { return false }
        }
        if priority > pick.best?.priority ?? 0 || pick.best == nil {
            pick.best = (offset, priority, waitingIndex)
        }
        // Without priorities the first eligible message wins; with them, only a 9 ends the search.
        return !hasPriorities || priority == Envelope.maxPriority
    }
}
