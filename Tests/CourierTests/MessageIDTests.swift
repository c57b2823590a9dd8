import Foundation
import Testing
@testable import Courier

@Suite("Message ids")
struct MessageIDTests {
    @Test("makeID gives lowercase version 4 UUIDs, all different, also when made concurrently")
    func versionFourAndUnique() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<2000).map { _ in Envelope.makeID() } } }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(500) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil, "\(id)")
            #expect(uuid?.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "4", "version nibble: \(id)")
            #expect("89ab".contains(characters[19]), "variant: \(id)")
        }
    }
}
