import Dispatch
import Foundation
import Idempotency
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

@Suite struct PostgresStoreAdminTests {
    let clock = SystemClock()

    @Test func sweepDeletesOnlyExpiredRecordsSparingLiveLeasesAndRespectsLimit() throws {
        let store = try sharedServer.get().makeStore()
        let now = clock.now()
        for i in 0..<5 {  // expired, complete
            let c = claimRecord("done\(i)", at: now, ttlMs: 200)
            _ = try store.claim(key("done\(i)"), c)
            _ = try store.complete(key("done\(i)"), token: c.token, with: completed(c, at: now, ttlMs: 200, body: [1]))
        }
        _ = try store.claim(key("abandoned"), claimRecord("abandoned", at: now, ttlMs: 200, leaseMs: 100))
        _ = try store.claim(key("running"), claimRecord("running", at: now, ttlMs: 200, leaseMs: 60_000))
        _ = try store.claim(key("live"), claimRecord("live", at: now))
        SystemClock.sleep(milliseconds: 400)
        #expect(try store.sweep(now: 0, limit: 4) == 4)
        #expect(try store.sweep(now: 0, limit: 100) == 2)
        #expect(try store.sweep(now: 0, limit: 100) == 0)
        var left: [String] = []
        try store.forEachRecord { _, r in
            if case .success(let record) = r { left.append(record.key) }
            return true
        }
        #expect(Set(left) == ["running", "live"])
    }

    @Test func forEachRecordWalksEveryRecordInKeyOrderAcrossBatches() throws {
        let store = try sharedServer.get().makeStore()
        let now = clock.now()
        let names = (0..<(PostgresStore.batchSize + 44)).map { "k\($0)" }
        for name in names { _ = try store.claim(key(name), claimRecord(name, at: now)) }
        var keys: [StoreKey] = []
        try store.forEachRecord { k, r in
            if case .success = r { keys.append(k) }
            return true
        }
        #expect(keys.count == names.count)
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.bytes.lexicographicallyPrecedes($1.bytes) })
        var visited = 0
        try store.forEachRecord { _, _ in
            visited += 1
            return visited < 3
        }
        #expect(visited == 3)
    }

    @Test func eightThreadsClaimingTheSameKeysClaimEachExactlyOnce() throws {
        let store = try sharedServer.get().makeStore(poolSize: 4)
        let now = clock.now()
        let race = ClaimRace.run(threads: 8, keys: (0..<100).map { "shared\($0)" }) { name in
            if case .claimed = try store.claim(key(name), claimRecord(name, at: now)) { return true }
            return false
        }
        let (counts, failures) = try #require(race, "the threads did not finish")
        #expect(failures == [])
        #expect(counts.count == 100)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    /// Prints the cost of one claim + complete round (two statements, two commits).
    @Test func claimPlusCompleteCost() throws {
        let store = try sharedServer.get().makeStore(poolSize: 1)
        let n = 300
        let ms = try elapsedMs {
            for i in 0..<n {
                let c = claimRecord("bench\(i)", at: clock.now())
                _ = try store.claim(key("bench\(i)"), c)
                _ = try store.complete(key("bench\(i)"), token: c.token, with: completed(c, at: clock.now(), body: [1]))
            }
        }
        print("PostgresStore: \(ms * 1000 / Int64(n)) µs per claim+complete (fsync=on, loopback TCP, \(n) rounds)")
        #expect(ms < 60_000)
    }
}
