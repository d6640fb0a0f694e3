import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// The production semantics through a real nginx and responder, on routes configured for
/// each rule (see `routes`).
@Suite("End to end: idempotency semantics through nginx", .serialized)
final class IdempotencySemanticsTests {
    static let routes = [
        TestRoute("post", "/required", handler: "createPayment", idempotency: #"{"required": true}"#),
        TestRoute("put", "/payments", handler: "createPayment"),
        TestRoute("post", "/orders", handler: "createPayment"),
        TestRoute(
            "post", "/user-payments", handler: "createPayment",
            idempotency: #"{"principal": {"from": "header", "name": "Authorization"}}"#),
        TestRoute(
            "post", "/slow", handler: "createPayment", handlerOptions: #"{"latencyMs": 1500}"#,
            idempotency: #"{"lockTimeoutSeconds": 30}"#),
        TestRoute(
            "post", "/strict", handler: "createPayment", handlerOptions: #"{"latencyMs": 1500}"#,
            idempotency: #"{"strict": true}"#),
        TestRoute(
            "post", "/wait", handler: "createPayment", handlerOptions: #"{"latencyMs": 600}"#,
            idempotency: #"{"waitSeconds": 20}"#),
        TestRoute(
            "post", "/short-ttl", handler: "createPayment", idempotency: #"{"ttlSeconds": 2, "lockTimeoutSeconds": 1}"#),
        TestRoute("post", "/tiny-store", handler: "createPayment", idempotency: #"{"maxStoredBytes": 64}"#),
        TestRoute(
            "post", "/headers", handler: "staticResponse",
            handlerOptions: #"""
                {"status": 201, "body": "{\"ok\":true}", "headers": {"Content-Type": "application/json",
                 "Location": "/things/1", "Set-Cookie": "session=abc; HttpOnly", "ETag": "\"v1\"",
                 "Link": "</a>; rel=\"next\", </b>; rel=\"prev\""}}
                """#),
    ]

    let config = TemporaryDirectory("idem-config")
    let stack: IdemStack
    let json = [("Content-Type", "application/json")]
    let payment = #"{"amount": 100, "currency": "USD"}"#

    init() throws {
        try TestConfiguration.write(Self.routes, to: config.path)
        stack = try IdemStack(configDirectory: config.path, workers: 8)
    }
    deinit { stack.stop() }

    func post(_ path: String, key: String?, body: String? = nil, headers: [(String, String)] = []) throws -> HTTPResult
    {
        var h = json + headers
        if let key { h.append(("Idempotency-Key", key)) }
        return try stack.send("POST", path, headers: h, body: body ?? payment)
    }

    func problemType(_ r: HTTPResult) -> String {
        ((try? JSONParser.parse(r.body))?[member: "type"]?.stringValue ?? "").components(separatedBy: "/").last ?? ""
    }

    @Test func everyMalformedKeyIs400ProblemJSON() throws {
        let before = try stack.paymentCount()
        for key in ["", String(repeating: "k", count: 256), "a,b", "a, b", "caf\u{e9}", "\"open", "two words"] {
            let r = try post("/payments", key: key)
            #expect(r.status == 400, "key \(key.prefix(12))")
            #expect(r.header("Content-Type") == "application/problem+json")
            #expect(r.header("Cache-Control") == "no-store")
            #expect(problemType(r) == "invalid-idempotency-key")
        }
        // nginx joins a repeated header with ", ": that is a list, not a key.
        let repeated = try stack.send(
            "POST", "/payments", headers: json + [("Idempotency-Key", "a"), ("Idempotency-Key", "b")], body: payment)
        #expect(repeated.status == 400)
        #expect(try stack.paymentCount() == before)
    }

    @Test func getWithAKeyIsNeverReplayed() throws {
        let a = try stack.send("GET", "/payments", headers: [("Idempotency-Key", "get-1")])
        let b = try stack.send("GET", "/payments", headers: [("Idempotency-Key", "get-1")])
        #expect(a.status == 200 && b.status == 200)
        #expect(b.header("X-Idempotent-Replay") == nil)
    }

    @Test func requiredRouteWithoutKeyIs400WithLink() throws {
        let r = try post("/required", key: nil)
        #expect(r.status == 400)
        #expect(problemType(r) == "idempotency-key-required")
        #expect(r.header("Link")?.contains("rel=\"help\"") == true)
        #expect(try post("/required", key: "req-1").status == 201)
    }

    @Test func twoPrincipalsWithTheSameKeyEachExecuteOnce() throws {
        let before = try stack.paymentCount()
        let alice = [("Authorization", "Bearer alice-token")]
        let bob = [("Authorization", "Bearer bob-token")]
        let a1 = try post("/user-payments", key: "shared-key", headers: alice)
        let b1 = try post("/user-payments", key: "shared-key", headers: bob)
        let a2 = try post("/user-payments", key: "shared-key", headers: alice)
        let b2 = try post("/user-payments", key: "shared-key", headers: bob)
        #expect(a1.status == 201 && b1.status == 201)
        #expect(a1.body != b1.body)
        #expect(a2.body == a1.body && a2.header("X-Idempotent-Replay") == "true")
        #expect(b2.body == b1.body && b2.header("X-Idempotent-Replay") == "true")
        #expect(try stack.paymentCount() == before + 2)
    }

    @Test func changedBodyQueryOrContentTypeIs422() throws {
        #expect(try post("/payments", key: "fp-1").status == 201)
        let before = try stack.paymentCount()
        let body = try post("/payments", key: "fp-1", body: #"{"amount": 101, "currency": "USD"}"#)
        let query = try stack.send(
            "POST", "/payments?source=retry", headers: json + [("Idempotency-Key", "fp-1")], body: payment)
        let type = try stack.send(
            "POST", "/payments", headers: [("Content-Type", "text/plain"), ("Idempotency-Key", "fp-1")], body: payment)
        for r in [body, query, type] {
            #expect(r.status == 422)
            #expect(problemType(r) == "idempotency-key-reused")
        }
        #expect(try stack.paymentCount() == before)
    }

    @Test func sameKeyOnAnotherRouteOrMethodExecutesIndependently() throws {
        let before = try stack.paymentCount()
        let post1 = try post("/payments", key: "multi-1")
        let orders = try post("/orders", key: "multi-1")
        let put = try stack.send("PUT", "/payments", headers: json + [("Idempotency-Key", "multi-1")], body: payment)
        for r in [post1, orders, put] {
            #expect(r.status == 201)
            #expect(r.header("X-Idempotent-Replay") == nil)
        }
        #expect(try stack.paymentCount() == before + 3)
    }

    func parallel(_ n: Int, path: String, key: String) -> [HTTPResult?] {
        let results = Mutex<[HTTPResult?]>([])
        let (stack, json, payment) = (self.stack, self.json, self.payment)
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            let r = try? stack.send("POST", path, headers: json + [("Idempotency-Key", key)], body: payment)
            results.withLock { $0.append(r) }
        }
        return results.withLock { $0 }
    }

    @Test(arguments: [2, 50])
    func parallelDuplicatesExecuteOnceAndTheRestGet409(count: Int) throws {
        let before = try stack.paymentCount()
        let results = parallel(count, path: "/slow", key: "par-\(count)")
        let statuses = results.map { $0?.status ?? -1 }
        let executed = results.compactMap { $0 }.filter { $0.status == 201 && $0.header("X-Idempotent-Replay") == nil }
        #expect(executed.count == 1, "\(statuses)")
        for r in results.compactMap({ $0 }) where r.status != 201 || r.header("X-Idempotent-Replay") != nil {
            // A duplicate that overlapped the first gets 409; one that a busy machine delayed
            // past its end gets the identical replay. Never a second execution.
            if r.status == 409 {
                #expect(r.header("Retry-After") == "1")
                #expect(problemType(r) == "request-in-progress")
            } else {
                #expect(r.status == 201 && r.body == executed.first?.body, "\(statuses)")
            }
        }
        #expect(statuses.filter { $0 == 409 }.count >= (count - 1) / 2, "\(statuses)")
        #expect(try stack.paymentCount() == before + 1)
    }

    @Test func parallelDuplicatesInWaitModeAllGetTheSameAnswer() throws {
        let before = try stack.paymentCount()
        let results = parallel(6, path: "/wait", key: "wait-1").compactMap { $0 }
        #expect(results.count == 6)
        #expect(results.allSatisfy { $0.status == 201 }, "\(results.map(\.status))")
        #expect(Set(results.map(\.body)).count == 1)
        #expect(results.filter { $0.header("X-Idempotent-Replay") == "true" }.count == 5)
        #expect(try stack.paymentCount() == before + 1)
    }

    @Test func mismatchingBodyWhileInFlightIs422() throws {
        let first = Mutex<HTTPResult?>(nil)
        let (stack, json, payment) = (self.stack, self.json, self.payment)
        let thread = Thread {
            let r = try? stack.send("POST", "/slow", headers: json + [("Idempotency-Key", "inflight-1")], body: payment)
            first.withLock { $0 = r }
        }
        thread.start()
        usleep(250_000)
        let other = try post("/slow", key: "inflight-1", body: #"{"amount": 7, "currency": "EUR"}"#)
        #expect(other.status == 422)
        while first.withLock({ $0 }) == nil { usleep(50_000) }
        #expect(first.withLock { $0?.status } == 201)
    }

    @Test func nonSuccessIsNotReplayedAndTheRetryRuns() throws {
        let bad = #"{"amount": -1, "currency": "USD"}"#
        let a = try post("/payments", key: "bad-1", body: bad)
        let b = try post("/payments", key: "bad-1", body: bad)
        #expect(a.status == 400 && b.status == 400)
        #expect(b.header("X-Idempotent-Replay") == nil)
    }

    @Test func oversizedResponseGets409OnRetryAndNeverRunsTwice() throws {
        let before = try stack.paymentCount()
        let first = try post("/tiny-store", key: "big-1")
        #expect(first.status == 201)
        let retry = try post("/tiny-store", key: "big-1")
        #expect(retry.status == 409)
        #expect(problemType(retry) == "response-not-stored")
        #expect(try stack.paymentCount() == before + 1)
    }

    @Test func replayKeepsHeadersButNotCookies() throws {
        let first = try post("/headers", key: "hdr-1")
        let replay = try post("/headers", key: "hdr-1")
        #expect(first.status == 201 && replay.status == 201)
        #expect(first.header("Set-Cookie") != nil)
        #expect(replay.header("Set-Cookie") == nil)
        #expect(replay.header("X-Idempotent-Replay") == "true")
        #expect(replay.header("Location") == "/things/1")
        #expect(replay.header("ETag") == "\"v1\"")
        #expect(replay.header("Link") == "</a>; rel=\"next\", </b>; rel=\"prev\"")
        #expect(replay.headers.filter { $0.0.lowercased() == "link" }.count == 1)
        #expect(replay.body == first.body)
    }

    @Test func afterTheTTLTheKeyIsNewAgain() throws {
        #expect(try post("/short-ttl", key: "ttl-1").status == 201)
        let changed = #"{"amount": 5, "currency": "EUR"}"#
        #expect(try post("/short-ttl", key: "ttl-1", body: changed).status == 422)
        usleep(2_300_000)
        let later = try post("/short-ttl", key: "ttl-1", body: changed)
        #expect(later.status == 201)
        #expect(later.header("X-Idempotent-Replay") == nil)
    }
}
