import HTTP
import Idempotency
import JSON
import TestSupport
import Testing

/// A liveness oracle the test controls.
final class FakeLiveness: OwnerLiveness, @unchecked Sendable {
    let owner: String
    var dead: Set<String> = []
    init(owner: String) { self.owner = owner }
    func isDead(_ owner: String) -> Bool { dead.contains(owner) }
}

@Suite("In-flight claims, leases, takeovers, waiting")
struct InFlightPolicyTests {
    @Test func claimOfADeadOwnerIsTakenOverAtOnce() {
        let h = PolicyHarness()
        let crashed = FakeLiveness(owner: "host:boot:dead")
        h.liveness = crashed
        let first = h.begin(key: "k1")  // the owner "crashes" inside the handler
        #expect(first.early == nil)
        let survivor = FakeLiveness(owner: "host:boot:alive")
        survivor.dead = ["host:boot:dead"]
        h.liveness = survivor
        let (retry, context) = h.send(key: "k1")
        #expect(retry.status == .created)
        #expect(context.outcome == "executed")
        #expect(context.logFields.contains { $0 == ("takeover_reason", "owner-dead") })
        #expect(context.logFields.contains { $0 == ("takeover_attempt", "2") })
        #expect(h.executions == 1)
    }

    @Test func liveOwnerWithinItsLeaseKeepsTheClaim() {
        let h = PolicyHarness()
        _ = h.begin(key: "k1")
        h.clock.advance(seconds: h.options.lockTimeoutSeconds - 1)
        #expect(h.send(key: "k1").0.status == .conflict)
    }

    @Test func strictModeAnswersOutcomeUnknownInsteadOfRerunning() throws {
        let h = PolicyHarness()
        h.options.strict = true
        _ = h.begin(key: "k1")
        h.clock.advance(seconds: h.options.lockTimeoutSeconds + 1)
        let (response, context) = h.send(key: "k1")
        #expect(response.status == .conflict)
        #expect(context.outcome == "outcome-unknown")
        let problem = try JSONParser.parse(response.body)
        #expect(problem[member: "type"]?.stringValue?.hasSuffix("/outcome-unknown") == true)
        #expect(h.executions == 0)
    }

    @Test func staleOwnerFinishingAfterATakeoverDoesNotOverwrite() {
        let h = PolicyHarness()
        h.responseBody = #"{"who":"stale"}"#
        let stale = h.begin(key: "k1")
        h.clock.advance(seconds: h.options.lockTimeoutSeconds + 1)
        h.responseBody = #"{"who":"new"}"#
        let (taken, _) = h.send(key: "k1")
        #expect(taken.status == .created)
        h.responseBody = #"{"who":"stale"}"#
        _ = h.finish(stale)  // the paused owner wakes up and completes
        #expect(stale.context.logFields.contains { $0 == ("stored", "lease-lost") })
        let (replay, _) = h.send(key: "k1")
        #expect(replay.headers[Replay.replayHeader] == "true")
        #expect(String(decoding: replay.body, as: UTF8.self) == #"{"who":"new"}"#)
    }

    @Test func mismatchingBodyWhileInFlightIs422() {
        let h = PolicyHarness()
        _ = h.begin(key: "k1", body: #"{"amount":1}"#)
        #expect(h.send(key: "k1", body: #"{"amount":2}"#).0.status == .unprocessableContent)
    }

    @Test func waitingDuplicateGetsTheReplayWhenTheFirstFinishes() {
        let h = PolicyHarness()
        h.options.waitSeconds = 5
        let first = h.begin(key: "k1")
        var sleeps = 0
        h.onSleep = { ms in
            sleeps += 1
            h.clock.advance(milliseconds: ms)
            if sleeps == 3 { _ = h.finish(first) }
        }
        let (response, context) = h.send(key: "k1")
        #expect(response.status == .created)
        #expect(response.headers[Replay.replayHeader] == "true")
        #expect(context.outcome == "replayed")
        #expect(h.executions == 1)
    }

    @Test func waitingDuplicateGets409WhenTheBoundPasses() {
        let h = PolicyHarness()
        h.options.waitSeconds = 2
        _ = h.begin(key: "k1")
        var waited: Int64 = 0
        h.onSleep = { ms in
            waited += ms
            h.clock.advance(milliseconds: ms)
        }
        let (response, _) = h.send(key: "k1")
        #expect(response.status == .conflict)
        #expect(waited >= 2000 && waited < 2300)
    }

    @Test func waitingDuplicateRunsItselfWhenTheFirstIsReleased() {
        let h = PolicyHarness()
        h.options.waitSeconds = 5
        h.nextStatus = .internalServerError
        let first = h.begin(key: "k1")
        h.onSleep = { ms in
            h.clock.advance(milliseconds: ms)
            if h.executions == 0 {
                _ = h.finish(first)  // a 500: not stored, the claim is released
                h.nextStatus = .created
            }
        }
        let (response, context) = h.send(key: "k1")
        #expect(response.status == .created)
        #expect(context.outcome == "executed")
        #expect(h.executions == 2)
    }

    @Test func oversizedResponseIsRecordedUnavailableAndNeverRerun() throws {
        let h = PolicyHarness()
        h.options.maxStoredBytes = 100
        h.responseBody = String(repeating: "x", count: 500)
        let (first, c1) = h.send(key: "k1")
        #expect(first.status == .created)
        #expect(first.body.count == 500)
        #expect(c1.logFields.contains { $0 == ("stored", "too-large") })
        let (retry, _) = h.send(key: "k1")
        #expect(retry.status == .conflict)
        #expect(
            try JSONParser.parse(retry.body)[member: "type"]?.stringValue?.hasSuffix("/response-not-stored") == true)
        #expect(h.executions == 1)
    }
}

@Suite("Scoping and replay headers")
struct ScopeAndReplayTests {
    @Test func twoPrincipalsWithTheSameKeyEachRunOnce() {
        let h = PolicyHarness()
        h.options.principal = .headerHash("Authorization")
        let alice = [("Authorization", "Bearer alice")]
        let bob = [("Authorization", "Bearer bob")]
        let (a1, _) = h.send(key: "k1", headers: alice)
        let (b1, _) = h.send(key: "k1", headers: bob)
        let (a2, _) = h.send(key: "k1", headers: alice)
        let (b2, _) = h.send(key: "k1", headers: bob)
        #expect(h.executions == 2)
        #expect(a1.body != b1.body)
        #expect(a2.body == a1.body && a2.headers[Replay.replayHeader] == "true")
        #expect(b2.body == b1.body && b2.headers[Replay.replayHeader] == "true")
    }

    @Test func remoteUserScopesKeys() {
        let h = PolicyHarness()
        h.options.principal = .remoteUser
        _ = h.send(key: "k1", parameters: ["REMOTE_USER": "alice"])
        let (bob, _) = h.send(key: "k1", parameters: ["REMOTE_USER": "bob"])
        #expect(bob.headers[Replay.replayHeader] == nil)
        #expect(h.executions == 2)
    }

    @Test func principalsFromDifferentSourcesNeverCollide() {
        let request = Request(
            method: .post, path: "/p", headers: Headers([("X-User", "alice")]),
            parameters: ["REMOTE_USER": "alice", "X_USER": "alice"])
        let values = [
            PrincipalSource.remoteUser.principal(of: request),
            PrincipalSource.parameter("X_USER").principal(of: request),
            PrincipalSource.headerHash("X-User").principal(of: request),
        ]
        #expect(Set(values).count == 3)
        #expect(!values[2].contains("alice"))
        #expect(PrincipalSource.remoteUser.principal(of: Request(method: .post, path: "/p")) == "")
    }

    @Test func sameKeyOnAnotherMethodIsAnotherRecord() {
        let h = PolicyHarness()
        _ = h.send(.post, key: "k1")
        let (put, _) = h.send(.put, key: "k1")
        #expect(put.headers[Replay.replayHeader] == nil)
        #expect(h.executions == 2)
    }

    @Test func replayHeaderNameIsConfigurableAndStripeHeaderOptional() {
        let h = PolicyHarness()
        h.options.replayHeader = "Idem-Replayed"
        h.options.stripeReplayHeader = true
        _ = h.send(key: "k1")
        let (replay, _) = h.send(key: "k1")
        #expect(replay.headers["Idem-Replayed"] == "true")
        #expect(replay.headers["Idempotent-Replayed"] == "true")
        #expect(replay.headers["X-Idempotent-Replay"] == nil)
    }

    @Test func replayKeepsHeadersVerbatimAndDropsTransmissionOnes() {
        let h = PolicyHarness()
        h.responseHeaders = [
            ("ETag", "\"v1\""), ("Link", "</a>; rel=\"next\", </b>; rel=\"prev\""), ("Date", "Mon"),
            ("X-Request-Id", "abc"), ("Connection", "keep-alive"),
        ]
        let (first, _) = h.send(key: "k1")
        let (replay, _) = h.send(key: "k1")
        #expect(replay.headers["ETag"] == "\"v1\"")
        #expect(replay.headers["Link"] == first.headers["Link"])
        #expect(replay.headers.fields.filter { Headers.same($0.name, "Link") }.count == 1)
        for dropped in ["Set-Cookie", "Date", "X-Request-Id", "Connection"] {
            #expect(replay.headers[dropped] == nil, "\(dropped)")
        }
        #expect(replay.headers["Location"] == "/payments/1")
    }
}

/// A store whose `complete` fails with `.full` for records that carry a response, as a map
/// without room for a large body would.
final class NoRoomForResponsesStore: IdempotencyStore, @unchecked Sendable {
    let inner = InMemoryStore()
    func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        try inner.claim(key, record)
    }
    func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool {
        if record.response != nil { throw .full("no room") }
        return try inner.complete(key, token: token, with: record)
    }
    func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool { try inner.release(key, token: token) }
    func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool {
        try inner.takeOver(key, from: token, with: record)
    }
    func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? { try inner.record(for: key) }
}

@Suite("Store full at completion")
struct StoreFullAtCompletionTests {
    @Test func keyIsRecordedWithoutItsResponseSoARetryNeverRunsAgain() throws {
        let store = NoRoomForResponsesStore()
        let clock = ManualClock()
        let options = IdempotencyOptions()
        let request = Request(method: .post, target: "/payments", headers: Headers([("Idempotency-Key", "k1")]))
        let context = RequestContext(route: "/payments")
        let inbound = IdempotencyInbound(options: options, store: store, clock: clock)
        #expect(try inbound.inbound(request, context: context) == nil)
        var response = Response(status: .created, body: Array("paid".utf8))
        try IdempotencyOutbound(clock: clock).outbound(&response, request: request, context: context)
        #expect(response.status == .created)  // the client still gets the real answer
        #expect(context.logFields.contains { $0 == ("stored", "too-large") })
        let retry = try inbound.inbound(request, context: RequestContext(route: "/payments"))
        #expect(retry?.status == .conflict)
    }

    @Test func completionKeepsTheTakeoverAttempt() throws {
        let h = PolicyHarness()
        _ = h.begin(key: "k1")
        h.clock.advance(seconds: h.options.lockTimeoutSeconds + 1)
        _ = h.send(key: "k1")
        let scope = Scope(principal: "", method: "POST", route: "/payments", key: IdempotencyKey(unchecked: "k1"))
        #expect(try h.store.record(for: scope.storeKey)?.attempt == 2)
        #expect(try h.store.record(for: scope.storeKey)?.state == .complete)
    }
}
