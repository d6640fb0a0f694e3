import Foundation
import Idempotency
import RedisStore
import Synchronization
import TestSupport
import Testing

/// The Redis store against a real redis-server: the same contract as the LMDB store.
@Suite("Redis store", .serialized)
struct RedisStoreTests {
    let server = RedisServer.shared

    func store() throws -> RedisStore { try RedisStore(url: RedisURL(server.freshURL())) }

    func key(_ name: String) -> StoreKey { scope(name).storeKey }
    func scope(_ name: String) -> Scope { RecordFixtures.scope(name, route: "/r") }
    func claim(_ name: String, now: Timestamp = SystemClock().now(), ttlMs: Int64 = 60_000, leaseMs: Int64 = 30_000)
        -> IdempotencyRecord
    {
        RecordFixtures.claim(name, route: "/r", at: now, ttlMs: ttlMs, leaseMs: leaseMs)
    }
    func completed(_ c: IdempotencyRecord, body: String) -> IdempotencyRecord {
        var done = c
        done.state = .complete
        done.leaseUntil = c.createdAt
        done.response = StoredResponse(status: 201, headers: [("Location", "/x")], body: Array(body.utf8))
        return done
    }

    @Test func claimCompleteReplayWithIdenticalBytes() throws {
        let s = try store()
        let c = claim("a")
        #expect(try s.claim(key("a"), c) == .claimed(previous: nil))
        guard case .existing(let running) = try s.claim(key("a"), claim("a")) else {
            Issue.record("second claim should see the first")
            return
        }
        #expect(running.state == .inProgress && running.token == c.token)
        #expect(try s.complete(key("a"), token: c.token, with: completed(c, body: "paid")))
        let stored = try #require(try s.record(for: key("a")))
        #expect(stored.state == .complete)
        #expect(stored.response?.body == Array("paid".utf8))
    }

    @Test func wrongTokenCannotCompleteOrRelease() throws {
        let s = try store()
        let c = claim("b")
        _ = try s.claim(key("b"), c)
        let stranger = ClaimToken.random()
        #expect(try s.complete(key("b"), token: stranger, with: completed(c, body: "x")) == false)
        #expect(try s.release(key("b"), token: stranger) == false)
        #expect(try s.record(for: key("b"))?.state == .inProgress)
        #expect(try s.release(key("b"), token: c.token))
        #expect(try s.record(for: key("b")) == nil)
    }

    @Test func takeOverIsACompareAndSwapAndTheAttemptSurvivesCompletion() throws {
        let s = try store()
        let first = claim("c")
        _ = try s.claim(key("c"), first)
        let second = claim("c")
        #expect(try s.takeOver(key("c"), from: first.token, with: second))
        #expect(try s.takeOver(key("c"), from: first.token, with: claim("c")) == false)
        #expect(try s.complete(key("c"), token: first.token, with: completed(first, body: "stale")) == false)
        #expect(try s.complete(key("c"), token: second.token, with: completed(second, body: "new")))
        let stored = try #require(try s.record(for: key("c")))
        #expect(stored.attempt == 2)
        #expect(stored.response?.body == Array("new".utf8))
    }

    @Test func recordsExpireByRedisTTL() throws {
        let s = try store()
        let c = claim("d", ttlMs: 300, leaseMs: 200)
        _ = try s.claim(key("d"), c)
        usleep(450_000)
        #expect(try s.record(for: key("d")) == nil)
        #expect(try s.claim(key("d"), claim("d")) == .claimed(previous: nil))
    }

    @Test func eightThreadsClaimEachKeyOnce() throws {
        let s = try store()
        let race = ClaimRace.run(threads: 8, keys: (0..<100).map { "race-\($0)" }) { name in
            if case .claimed = try s.claim(key(name), claim(name)) { return true }
            return false
        }
        let (counts, failures) = try #require(race, "the threads did not finish")
        #expect(failures == [])
        #expect(counts.count == 100)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test func forEachRecordAndPurge() throws {
        let s = try store()
        for name in ["p1", "p2", "p3"] { _ = try s.claim(key(name), claim(name)) }
        var seen = 0
        try s.forEachRecord { _, result in
            if case .success = result { seen += 1 }
            return true
        }
        #expect(seen == 3)
        #expect(try s.purge(key("p2")))
        #expect(try s.purge(key("p2")) == false)
    }

    @Test func evictingPolicyIsRefusedAtStart() throws {
        let other = try RedisServer()
        let url = other.freshURL()
        let setter = try RedisStore(url: RedisURL(url))
        _ = setter
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["-p", String(other.port), "CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]
        cli.standardOutput = FileHandle.nullDevice
        try cli.run()
        cli.waitUntilExit()
        #expect {
            try RedisStore(url: RedisURL(url))
        } throws: { error in
            "\(error)".contains("maxmemory-policy is allkeys-lru")
        }
    }

    @Test func outageFailsFastAndTheSameStoreRecovers() throws {
        let own = try RedisServer()
        let s = try RedisStore(url: RedisURL(own.freshURL()), connectTimeoutMs: 500, commandTimeoutMs: 500)
        _ = try s.claim(key("o1"), claim("o1"))
        own.kill()
        let before = Date()
        #expect(throws: StoreError.self) { try s.claim(key("o2"), claim("o2")) }
        #expect(Date().timeIntervalSince(before) < 3)
        try own.start()
        #expect(try s.claim(key("o3"), claim("o3")) == .claimed(previous: nil))
    }
}
