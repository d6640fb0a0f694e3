import Idempotency
import TestSupport
import Testing

@testable import PostgresStore

@Suite struct PostgresStoreClaimTests {
    let clock = SystemClock()

    @Test func claimOnEmptyKeyClaimsAndSecondClaimSeesItInProgress() throws {
        let store = try sharedServer.get().makeStore()
        let first = claimRecord("a", at: clock.now())
        #expect(try store.claim(key("a"), first) == .claimed(previous: nil))
        #expect(try store.record(for: key("a")) == first)
        let outcome = try store.claim(key("a"), claimRecord("a", at: clock.now()))
        #expect(outcome == .existing(first))
    }

    @Test func completeStoresIdenticalBytesAndReplays() throws {
        let store = try sharedServer.get().makeStore()
        let claim = claimRecord("a", at: clock.now())
        _ = try store.claim(key("a"), claim)
        let body = Array("{\"id\":\"pay_1\"}".utf8) + [0, 255, 10]
        let done = completed(claim, at: clock.now(), body: body)
        #expect(try store.complete(key("a"), token: claim.token, with: done))
        #expect(try store._rawRecord(for: key("a")) == RecordCodec.encode(done))
        #expect(try store.record(for: key("a")) == done)
        #expect(try store.claim(key("a"), claimRecord("a", at: clock.now())) == .existing(done))
        #expect(try store.complete(key("a"), token: claim.token, with: done) == false)  // already complete
    }

    @Test func completeAndReleaseWithWrongTokenAreRefusedAndChangeNothing() throws {
        let store = try sharedServer.get().makeStore()
        let claim = claimRecord("a", at: clock.now())
        _ = try store.claim(key("a"), claim)
        let forged = completed(claim, at: clock.now(), body: Array("stale owner".utf8))
        #expect(try store.complete(key("a"), token: .random(), with: forged) == false)
        #expect(try store.release(key("a"), token: .random()) == false)
        #expect(try store.record(for: key("a")) == claim)
        #expect(try store.complete(key("missing"), token: claim.token, with: forged) == false)
        #expect(try store.record(for: key("missing")) == nil)
    }

    @Test func releaseMakesKeyClaimableAgainButNotAfterCompletion() throws {
        let store = try sharedServer.get().makeStore()
        let claim = claimRecord("a", at: clock.now())
        _ = try store.claim(key("a"), claim)
        #expect(try store.release(key("a"), token: claim.token))
        #expect(try store.record(for: key("a")) == nil)
        let again = claimRecord("a", at: clock.now())
        #expect(try store.claim(key("a"), again) == .claimed(previous: nil))
        #expect(try store.complete(key("a"), token: again.token, with: completed(again, at: clock.now(), body: [1])))
        #expect(try store.release(key("a"), token: again.token) == false)
    }

    @Test func takeOverIsCompareAndSwapAndCompletionKeepsAttemptTwo() throws {
        let store = try sharedServer.get().makeStore()
        let first = claimRecord("a", at: clock.now())
        _ = try store.claim(key("a"), first)
        let second = claimRecord("a", at: clock.now())
        let third = claimRecord("a", at: clock.now())
        #expect(try store.takeOver(key("a"), from: first.token, with: second))
        #expect(try store.takeOver(key("a"), from: first.token, with: third) == false)  // lost the race
        var expected = second
        expected.attempt = 2
        #expect(try store.record(for: key("a")) == expected)
        // The stale owner is fenced off.
        #expect(
            try store.complete(key("a"), token: first.token, with: completed(first, at: clock.now(), body: [1]))
                == false)
        #expect(try store.release(key("a"), token: first.token) == false)
        // The new owner completes with the record it built (attempt 1): the stored attempt stays 2.
        let done = completed(second, at: clock.now(), body: [2])
        #expect(try store.complete(key("a"), token: second.token, with: done))
        let stored = try #require(try store.record(for: key("a")))
        #expect(stored.attempt == 2)
        #expect(stored.response?.body == [2])
        #expect(try RecordCodec.decode(#require(try store._rawRecord(for: key("a")))).attempt == 2)
    }

    @Test func expiryFollowsTheServerClockNotTheCallers() throws {
        let store = try sharedServer.get().makeStore()
        let frozen = ManualClock()  // the caller's clock never moves
        let claim = claimRecord("a", at: frozen.now(), ttlMs: 300, leaseMs: 300)
        let done = completed(claim, at: frozen.now(), ttlMs: 300, body: [1])
        _ = try store.claim(key("a"), claim)
        #expect(try store.complete(key("a"), token: claim.token, with: done))
        #expect(try store.claim(key("a"), claimRecord("a", at: frozen.now())) == .existing(done))
        SystemClock.sleep(milliseconds: 500)
        let next = claimRecord("a", at: frozen.now())
        #expect(try store.claim(key("a"), next) == .claimed(previous: done))
        #expect(try store.record(for: key("a")) == next)
    }

    @Test func leaseVerdictIsTheServersInTheCallersClock() throws {
        let frozen = ManualClock()
        let store = try sharedServer.get().makeStore(clock: frozen)
        let claim = claimRecord("a", at: frozen.now(), leaseMs: 200)
        _ = try store.claim(key("a"), claim)
        guard case .existing(let running) = try store.claim(key("a"), claimRecord("a", at: frozen.now())) else {
            Issue.record("a running claim was replaced")
            return
        }
        #expect(running.leaseExpired(at: frozen.now()) == false)
        SystemClock.sleep(milliseconds: 400)
        guard case .existing(let abandoned) = try store.claim(key("a"), claimRecord("a", at: frozen.now())) else {
            Issue.record("an in-progress claim past its lease was replaced; only takeOver may")
            return
        }
        #expect(abandoned.leaseExpired(at: frozen.now()))
        #expect(try store.record(for: key("a"))?.leaseExpired(at: frozen.now()) == true)
        #expect(abandoned.token == claim.token)
    }

    @Test func corruptBytesAreCorruptEverywhereAndNeverOverwrittenByAClaim() throws {
        let store = try sharedServer.get().makeStore()
        let claim = claimRecord("a", at: clock.now())
        _ = try store.claim(key("a"), claim)
        var garbage = RecordCodec.encode(claim)
        garbage[garbage.count / 2] ^= 0xFF
        #expect(try store._execute("UPDATE idem_records SET record = $1", [garbage]) == 1)
        #expect(throws: StoreError.self) { try store.record(for: key("a")) }
        let refused = storeError { () throws(StoreError) in
            _ = try store.claim(key("a"), claimRecord("a", at: clock.now()))
        }
        guard case .corrupt(let message) = refused else {
            Issue.record("expected .corrupt, got \(String(describing: refused))")
            return
        }
        #expect(message.contains("checksumMismatch"))
        #expect(try store._rawRecord(for: key("a")) == garbage)
        var seen: [Result<IdempotencyRecord, StoreError>] = []
        try store.forEachRecord { _, r in
            seen.append(r)
            return true
        }
        #expect(seen.count == 1)
        if case .failure(.corrupt) = seen.first {} else { Issue.record("forEachRecord hid a corrupt record") }
        #expect(try store.purge(key("a")))
        #expect(try store.purge(key("a")) == false)
    }
}
