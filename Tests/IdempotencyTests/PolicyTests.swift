import HTTP
import Idempotency
import TestSupport
import Testing

/// The inbound and outbound policies around a counting handler, with an in-memory store and
/// a manual clock: the whole idempotency decision without FastCGI, LMDB or nginx. `begin` and
/// `finish` split a request so tests can interleave two of them.
final class PolicyHarness: @unchecked Sendable {
    let store = InMemoryStore()
    let clock = ManualClock()
    var options = IdempotencyOptions()
    var liveness: any OwnerLiveness = LeaseOnlyLiveness()
    /// Called instead of sleeping while a duplicate waits; tests move time and state here.
    var onSleep: (Int64) -> Void = { _ in }
    var executions = 0
    var nextStatus = Status.created
    var handlerError: (any Error)?
    var responseHeaders: [(String, String)] = []
    var responseBody: String?

    struct InFlight {
        let request: Request
        let context: RequestContext
        let early: Response?
    }

    func begin(
        _ method: Method = .post, key: String?, body: String = #"{"amount":1}"#, route: String = "/payments",
        headers extra: [(String, String)] = [], parameters: Parameters = [:]
    ) -> InFlight {
        var headers = Headers([("Content-Type", "application/json")] + extra)
        if let key { headers.set("Idempotency-Key", key) }
        var request = Request(method: method, target: route, headers: headers, body: Array(body.utf8))
        request.parameters = parameters
        let context = RequestContext(route: route)
        let inbound = IdempotencyInbound(
            options: options, store: store, clock: clock, liveness: liveness, sleep: { [self] ms in onSleep(ms) })
        var early: Response?
        do {
            early = try inbound.inbound(request, context: context)
        } catch {
            Issue.record("inbound threw \(error)")
        }
        if let early { context.finish(with: early) }
        return InFlight(request: request, context: context, early: early)
    }

    func finish(_ flight: InFlight) -> Response {
        if let early = flight.early { return early }
        executions += 1
        var response: Response
        if let handlerError {
            response = Problem(status: .internalServerError, type: "boom", title: "\(handlerError)").response
        } else {
            response = Response(
                status: nextStatus,
                headers: Headers(
                    [
                        ("Content-Type", "application/json"), ("Set-Cookie", "s=1"),
                        ("Location", "/payments/\(executions)"),
                    ] + responseHeaders),
                body: Array((responseBody ?? #"{"n":\#(executions)}"#).utf8))
        }
        try? IdempotencyOutbound(clock: clock).outbound(&response, request: flight.request, context: flight.context)
        flight.context.finish(with: response)
        return response
    }

    func send(
        _ method: Method = .post, key: String?, body: String = #"{"amount":1}"#, route: String = "/payments",
        headers: [(String, String)] = [], parameters: Parameters = [:]
    ) -> (Response, RequestContext) {
        let flight = begin(method, key: key, body: body, route: route, headers: headers, parameters: parameters)
        return (finish(flight), flight.context)
    }
}

@Suite("Idempotency policies")
struct PolicyTests {
    @Test func firstRequestExecutesAndRetryIsReplayed() {
        let h = PolicyHarness()
        let (first, c1) = h.send(key: "k1")
        #expect(first.status == .created)
        #expect(first.headers[Replay.replayHeader] == nil)
        #expect(c1.outcome == "executed")
        let (second, c2) = h.send(key: "k1")
        #expect(h.executions == 1)
        #expect(c2.outcome == "replayed")
        #expect(second.status == .created)
        #expect(second.body == first.body)
        #expect(second.headers[Replay.replayHeader] == "true")
        #expect(second.headers["Location"] == "/payments/1")
        #expect(second.headers["Set-Cookie"] == nil)
    }

    @Test func requestWithoutKeyIsProcessedEveryTime() {
        let h = PolicyHarness()
        _ = h.send(key: nil)
        let (_, context) = h.send(key: nil)
        #expect(h.executions == 2)
        #expect(context.outcome == "passthrough")
        #expect(h.store.count == 0)
    }

    @Test func requiredKeyMissingIs400WithLink() {
        let h = PolicyHarness()
        h.options.required = true
        let (response, _) = h.send(key: nil)
        #expect(response.status == .badRequest)
        #expect(response.headers["Link"]?.contains("rel=\"help\"") == true)
        #expect(h.executions == 0)
    }

    @Test func keyIsIgnoredOnGet() {
        let h = PolicyHarness()
        _ = h.send(.get, key: "k1")
        _ = h.send(.get, key: "k1")
        #expect(h.executions == 2)
    }

    @Test func invalidKeyIs400AndNothingRuns() {
        let h = PolicyHarness()
        let (response, _) = h.send(key: "a, b")
        #expect(response.status == .badRequest)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(h.executions == 0)
    }

    @Test func sameKeyOtherBodyIs422() {
        let h = PolicyHarness()
        _ = h.send(key: "k1", body: #"{"amount":1}"#)
        let (response, context) = h.send(key: "k1", body: #"{"amount":2}"#)
        #expect(response.status == .unprocessableContent)
        #expect(context.outcome == "mismatch")
        #expect(h.executions == 1)
    }

    @Test func duplicateWhileInProgressIs409WithRetryAfter() throws {
        let h = PolicyHarness()
        let request = Request(
            method: .post, target: "/payments",
            headers: Headers([("Idempotency-Key", "k1"), ("Content-Type", "application/json")]))
        let inbound = IdempotencyInbound(options: h.options, store: h.store, clock: h.clock)
        // Claimed and never finished: the first request is still running.
        #expect(try inbound.inbound(request, context: RequestContext(route: "/payments")) == nil)
        let (response, context) = h.send(key: "k1", body: "")
        #expect(response.status == .conflict)
        #expect(response.headers["Retry-After"] == "1")
        #expect(context.outcome == "conflict")
        #expect(h.executions == 0)
    }

    @Test func expiredLeaseIsTakenOverAsAttemptTwo() throws {
        let h = PolicyHarness()
        let request = Request(
            method: .post, target: "/payments",
            headers: Headers([("Idempotency-Key", "k1"), ("Content-Type", "application/json")]),
            body: Array(#"{"amount":1}"#.utf8))
        let inbound = IdempotencyInbound(options: h.options, store: h.store, clock: h.clock)
        #expect(try inbound.inbound(request, context: RequestContext(route: "/payments")) == nil)
        h.clock.advance(seconds: h.options.lockTimeoutSeconds + 1)
        let (response, context) = h.send(key: "k1")
        #expect(response.status == .created)
        #expect(context.logFields.contains { $0 == ("takeover_attempt", "2") })
        #expect(h.executions == 1)
    }

    @Test func errorResponseIsNotStoredAndRetryRunsAgain() {
        let h = PolicyHarness()
        h.nextStatus = .internalServerError
        let (first, _) = h.send(key: "k1")
        #expect(first.status == .internalServerError)
        h.nextStatus = .created
        let (second, _) = h.send(key: "k1")
        #expect(second.status == .created)
        #expect(second.headers[Replay.replayHeader] == nil)
        #expect(h.executions == 2)
    }

    @Test func cacheStatusesDecideWhatIsStored() {
        let h = PolicyHarness()
        h.options.cacheStatuses = StatusSet([200...299, 400...499])
        h.nextStatus = .badRequest
        _ = h.send(key: "k1")
        let (retry, _) = h.send(key: "k1")
        #expect(retry.status == .badRequest)
        #expect(retry.headers[Replay.replayHeader] == "true")
        #expect(h.executions == 1)
    }

    @Test func recordExpiresAfterTTL() {
        let h = PolicyHarness()
        h.options.ttlSeconds = 60
        _ = h.send(key: "k1")
        h.clock.advance(seconds: 59)
        #expect(h.send(key: "k1").0.headers[Replay.replayHeader] == "true")
        h.clock.advance(seconds: 2)
        let (after, _) = h.send(key: "k1")
        #expect(after.headers[Replay.replayHeader] == nil)
        #expect(h.executions == 2)
    }

    @Test func sameKeyOnAnotherRouteIsAnotherRecord() {
        let h = PolicyHarness()
        _ = h.send(key: "k1", route: "/payments")
        let (other, _) = h.send(key: "k1", route: "/refunds")
        #expect(other.headers[Replay.replayHeader] == nil)
        #expect(h.executions == 2)
    }

    @Test func claimLeftByAShortCircuitIsReleased() throws {
        let h = PolicyHarness()
        let request = Request(method: .post, target: "/payments", headers: Headers([("Idempotency-Key", "k1")]))
        let context = RequestContext(route: "/payments")
        let inbound = IdempotencyInbound(options: h.options, store: h.store, clock: h.clock)
        #expect(try inbound.inbound(request, context: context) == nil)
        #expect(h.store.count == 1)
        context.finish(with: Problem(status: .forbidden, type: "x", title: "later policy said no").response)
        #expect(h.store.count == 0)
    }

    @Test func storeFailureFailsClosedWith503() {
        let h = PolicyHarness()
        let request = Request(method: .post, target: "/payments", headers: Headers([("Idempotency-Key", "k1")]))
        let inbound = IdempotencyInbound(options: h.options, store: FailingStore(), clock: h.clock)
        let response = try? inbound.inbound(request, context: RequestContext(route: "/payments"))
        #expect(response?.status == .serviceUnavailable)
        #expect(response?.headers["Retry-After"] != nil)
    }
}

/// A store whose every operation fails, as a full or unreachable store would.
final class FailingStore: IdempotencyStore {
    func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        throw .unavailable("down")
    }
    func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool {
        throw .unavailable("down")
    }
    func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool { throw .unavailable("down") }
    func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool {
        throw .unavailable("down")
    }
    func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? { throw .unavailable("down") }
}

extension Status {
    static let forbidden = Status(403)
}
