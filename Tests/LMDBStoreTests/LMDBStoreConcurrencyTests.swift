import Foundation
import Idempotency
import Synchronization
import Testing

@testable import LMDBStore

@Suite struct LMDBStoreConcurrencyTests {
    @Test func eightThreadsClaimingTheSameKeysClaimEachExactlyOnce() throws {
        let f = try StoreFixture()
        let keys = (0..<100).map { "shared\($0)" }
        let wins = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        let store = f.store
        let now = f.clock.now()
        let group = DispatchGroup()
        for thread in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                // Half the threads walk the keys backwards so they meet head-on.
                for name in thread % 2 == 0 ? keys : keys.reversed() {
                    do {
                        if case .claimed = try store.claim(key(name), claimRecord(name, at: now)) {
                            wins.withLock { $0[name, default: 0] += 1 }
                        }
                    } catch {
                        failures.withLock { $0.append("\(name): \(error)") }
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(failures.withLock { $0 } == [])
        let counts = wins.withLock { $0 }
        #expect(counts.count == 100)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(try f.store.stats().recordCount == 100)
    }
}
