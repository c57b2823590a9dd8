import Courier

extension ScenarioRun {
    /// 13. Two groups with several members each (every member on its own transport): each group gets
    /// every message, and a group's members share them rather than each getting all.
    func consumerGroups() async throws {
        let topic = try await makeTopic()
        let members = max(1, counts.groupMembers)
        var groups: [(name: String, ledger: Ledger)] = []
        for label in ["billing", "shipping"] {
            let group = groupName(label)
            let ledger = ledger("\(topic) as \(group)")
            for member in 1...members {
                let transport = try await makeTransport()
                _ = try await subscribeAndConsume(transport, topic: topic, group: group, into: ledger, member: "\(label) \(member)")
            }
            groups.append((group, ledger))
        }
        let publisher = try await makeTransport()
        let envelopes = (0..<counts.groupMessages).map { message($0, topic: topic) }
        await publishConcurrently(envelopes, via: [publisher], into: groups[0].ledger, workers: 4)
        groups[1].ledger.expectSame(as: groups[0].ledger)
        try await waitForEverything(in: groups.map(\.ledger))
        for (group, ledger) in groups {
            let perMember = ledger.processedPerMember
            let shares = perMember.sorted { naturalOrder($0.key, $1.key) }.map { "\($0.key): \($0.value)" }
            note("\(group): \(shares.joined(separator: ", "))")
            let everyoneGotAll = members > 1 && perMember.count == members && perMember.values.allSatisfy { $0 == envelopes.count }
            if everyoneGotAll, !envelopes.isEmpty {
                fail("every member of \(group) received every message: members of a group must share the messages, not each get all")
            }
        }
    }
}
