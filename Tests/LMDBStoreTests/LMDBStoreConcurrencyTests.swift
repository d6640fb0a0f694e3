import Foundation
import Idempotency
import Synchronization
import TestSupport
import Testing

@testable import LMDBStore

@Suite struct LMDBStoreConcurrencyTests {
    @Test func eightThreadsClaimingTheSameKeysClaimEachExactlyOnce() throws {
        let f = try StoreFixture()
        let store = f.store
        let now = f.clock.now()
        let race = ClaimRace.run(threads: 8, keys: (0..<100).map { "shared\($0)" }) { name in
            if case .claimed = try store.claim(key(name), claimRecord(name, at: now)) { return true }
            return false
        }
        let (counts, failures) = try #require(race, "the threads did not finish")
        #expect(failures == [])
        #expect(counts.count == 100)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(try f.store.stats().recordCount == 100)
    }
}

@Suite struct LMDBStoreGroupCommitTests {
    /// Sixteen threads claim, complete and release with durable commits: every write decides as
    /// it would alone (each key claimed once, each completion kept), and commits are shared.
    @Test func concurrentWritesShareCommitsAndEachDecidesAsAlone() throws {
        let f = try StoreFixture()
        let store = f.store
        let now = f.clock.now()
        let wins = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<16 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for i in 0..<40 {
                    // Pairs of threads race for the same keys; each thread also has keys of its own.
                    let name = i % 2 == 0 ? "shared-\(thread / 2)-\(i)" : "own-\(thread)-\(i)"
                    let claim = claimRecord(name, at: now)
                    do {
                        guard case .claimed = try store.claim(key(name), claim) else { continue }
                        wins.withLock { $0[name, default: 0] += 1 }
                        if i % 4 == 3 {
                            guard try store.release(key(name), token: claim.token) else {
                                failures.withLock { $0.append("\(name): release refused") }
                                continue
                            }
                        } else {
                            var done = claim
                            done.state = .complete
                            guard try store.complete(key(name), token: claim.token, with: done) else {
                                failures.withLock { $0.append("\(name): completion refused") }
                                continue
                            }
                        }
                    } catch {
                        failures.withLock { $0.append("\(name): \(error)") }
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        #expect(failures.withLock { $0 } == [])
        let counts = wins.withLock { $0 }
        #expect(counts.values.allSatisfy { $0 == 1 })
        // 8 pairs × 20 shared keys + 16 threads × 20 own keys, each claimed exactly once.
        #expect(counts.count == 8 * 20 + 16 * 20)
        // Released keys (i % 4 == 3, own keys only) are gone; the rest are complete.
        #expect(try store.stats().recordCount == 8 * 20 + 16 * 10)
        var released = 0
        for name in counts.keys {
            guard let record = try store.record(for: key(name)) else {
                released += 1
                continue
            }
            #expect(record.state == .complete, "\(name)")
        }
        #expect(released == 16 * 10)
        let (batches, writes) = try #require(store.groupCommit).counts
        #expect(writes > batches, "\(writes) writes in \(batches) batches: no commit was shared")
    }

    @Test func turnedOffEveryWriteHasItsOwnTransaction() throws {
        var options = LMDBStore.Options()
        options.groupCommit = false
        let f = try StoreFixture(options)
        #expect(f.store.groupCommit == nil)
        let claim = claimRecord("a", at: f.clock.now())
        guard case .claimed = try f.store.claim(key("a"), claim) else {
            Issue.record("first claim refused")
            return
        }
        #expect(try f.store.release(key("a"), token: claim.token))
    }
}
