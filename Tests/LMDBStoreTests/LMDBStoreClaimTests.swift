import Idempotency
import Testing

@testable import LMDBStore

@Suite struct LMDBStoreClaimTests {
    @Test func claimOnEmptyKeyClaimsWithNoPrevious() throws {
        let f = try StoreFixture()
        let record = claimRecord("a", at: f.clock.now())
        #expect(try f.store.claim(key("a"), record) == .claimed(previous: nil))
        #expect(try f.store.record(for: key("a")) == record)
    }

    @Test func secondClaimOfSameKeySeesItInProgress() throws {
        let f = try StoreFixture()
        let first = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), first)
        f.clock.advance(seconds: 1)
        let outcome = try f.store.claim(key("a"), claimRecord("a", at: f.clock.now()))
        #expect(outcome == .existing(first))
        #expect(try f.store.record(for: key("a"))?.token == first.token)
    }

    @Test func completeWithRightTokenMakesRecordReplayable() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        let body = Array("{\"id\":\"pay_1\",\"amount\":1000}".utf8) + [0, 255, 10]
        #expect(try f.store.complete(key("a"), token: claim.token, with: completed(claim, body: body)))
        let stored = try #require(try f.store.record(for: key("a")))
        #expect(stored.state == .complete)
        #expect(stored.response?.body == body)
        #expect(stored.response?.status == 201)
        #expect(stored.response?.headers.map(\.0) == ["Content-Type", "Location"])
        guard case .existing(let replay) = try f.store.claim(key("a"), claimRecord("a", at: f.clock.now())) else {
            Issue.record("a completed key was claimed again")
            return
        }
        #expect(replay.response?.body == body)
    }

    @Test func completeWithWrongTokenReturnsFalseAndChangesNothing() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        let forged = completed(claim, body: Array("stale owner".utf8))
        #expect(try f.store.complete(key("a"), token: .random(), with: forged) == false)
        #expect(try f.store.record(for: key("a")) == claim)
        #expect(try f.store.complete(key("missing"), token: claim.token, with: forged) == false)
        #expect(try f.store.record(for: key("missing")) == nil)
    }

    @Test func completeOfAlreadyCompletedRecordReturnsFalse() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        let first = completed(claim, body: [1])
        #expect(try f.store.complete(key("a"), token: claim.token, with: first))
        #expect(try f.store.complete(key("a"), token: claim.token, with: completed(claim, body: [2])) == false)
        #expect(try f.store.record(for: key("a")) == first)
    }

    @Test func releaseWithWrongTokenReturnsFalseAndChangesNothing() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        #expect(try f.store.release(key("a"), token: .random()) == false)
        #expect(try f.store.record(for: key("a")) == claim)
    }

    @Test func releaseMakesKeyClaimableAgain() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        #expect(try f.store.release(key("a"), token: claim.token))
        #expect(try f.store.record(for: key("a")) == nil)
        #expect(try f.store.claim(key("a"), claimRecord("a", at: f.clock.now())) == .claimed(previous: nil))
        #expect(try f.store.stats().recordCount == 1)
    }

    @Test func completedRecordPastExpiryIsClaimedAgainWithPrevious() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now(), ttlMs: 10_000)
        _ = try f.store.claim(key("a"), claim)
        let done = completed(claim, body: [42])
        _ = try f.store.complete(key("a"), token: claim.token, with: done)
        f.clock.advance(seconds: 9)
        #expect(try f.store.claim(key("a"), claimRecord("a", at: f.clock.now())) == .existing(done))
        f.clock.advance(seconds: 1)
        let retry = claimRecord("a", at: f.clock.now())
        #expect(try f.store.claim(key("a"), retry) == .claimed(previous: done))
        #expect(try f.store.record(for: key("a"))?.attempt == 1)
        #expect(try f.store.record(for: key("a"))?.token == retry.token)
    }

    @Test func inProgressRecordPastLeaseIsNotClaimedButTakenOverAsAttemptTwo() throws {
        let f = try StoreFixture()
        let dead = claimRecord("a", at: f.clock.now(), leaseMs: 60_000)
        _ = try f.store.claim(key("a"), dead)
        f.clock.advance(seconds: 60)
        let takeover = claimRecord("a", at: f.clock.now())
        // A plain claim never replaces an unfinished record: taking over is the caller's call.
        #expect(try f.store.claim(key("a"), takeover) == .existing(dead))
        // Compare-and-swap on the old token: a wrong token changes nothing, the right one wins once.
        #expect(try f.store.takeOver(key("a"), from: takeover.token, with: takeover) == false)
        #expect(try f.store.takeOver(key("a"), from: dead.token, with: takeover))
        #expect(try f.store.takeOver(key("a"), from: dead.token, with: claimRecord("a", at: f.clock.now())) == false)
        let stored = try #require(try f.store.record(for: key("a")))
        #expect(stored.attempt == 2)
        #expect(stored.token == takeover.token)
        // The stale owner has lost its lease: its completion is refused.
        #expect(try f.store.complete(key("a"), token: dead.token, with: completed(dead, body: [1])) == false)
        #expect(try f.store.complete(key("a"), token: takeover.token, with: completed(stored, body: [2])))
    }

    @Test func reopenAfterCloseKeepsRecords() throws {
        let f = try StoreFixture()
        let claim = claimRecord("a", at: f.clock.now())
        _ = try f.store.claim(key("a"), claim)
        let done = completed(claim, body: Array("kept".utf8))
        _ = try f.store.complete(key("a"), token: claim.token, with: done)
        _ = try f.store.claim(key("b"), claimRecord("b", at: f.clock.now()))
        try f.reopen()
        #expect(try f.store.record(for: key("a")) == done)
        #expect(try f.store.record(for: key("b"))?.state == .inProgress)
        #expect(try f.store.stats().recordCount == 2)
    }

    @Test(arguments: LMDBStore.Durability.allCases)
    func everyDurabilityModeClaimsCompletesAndPersists(_ durability: LMDBStore.Durability) throws {
        let f = try StoreFixture(.init(durability: durability))
        let claim = claimRecord("a", at: f.clock.now())
        #expect(try f.store.claim(key("a"), claim) == .claimed(previous: nil))
        #expect(try f.store.complete(key("a"), token: claim.token, with: completed(claim, body: [9])))
        try f.store.sync()
        try f.reopen(.init(durability: durability))
        #expect(try f.store.record(for: key("a"))?.response?.body == [9])
    }
}
