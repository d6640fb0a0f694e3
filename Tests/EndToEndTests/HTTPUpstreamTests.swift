import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// `urlRewriteHandler` in front of a real HTTP service (Tests/Fixtures/upstream.py, started
/// here) that counts its executions in a file.
@Suite("End to end: urlRewriteHandler in front of an HTTP upstream", .serialized)
final class HTTPUpstreamTests {
    let upstreamPort = HTTPClient.freePort()
    let work = TemporaryDirectory("idem-upstream")
    let config = TemporaryDirectory("idem-config")
    var upstream: ChildProcess!
    let stack: IdemStack
    let json = [("Content-Type", "application/json")]

    var log: String { work.file("executions.log") }

    init() throws {
        FileManager.default.createFile(atPath: work.file("executions.log"), contents: nil)
        let base = "http://127.0.0.1:\(upstreamPort)"
        try TestConfiguration.write(
            [
                TestRoute(
                    "post", "/orders", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "\#(base)${pathname}${search}"}"#),
                TestRoute(
                    "post", "/slow", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "\#(base)/slow?ms=600"}"#),
                TestRoute(
                    "post", "/timeout", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "\#(base)/slow?ms=3000", "timeoutMs": 400}"#),
                TestRoute(
                    "post", "/fail", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "\#(base)/fail"}"#),
                TestRoute(
                    "post", "/refused", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "http://127.0.0.1:1/orders"}"#),
                TestRoute(
                    "post", "/v2/items/{id}", handler: "urlRewriteHandler",
                    handlerOptions: #"{"rewritePattern": "\#(base)/orders/${params.id}?source=${query.src}"}"#),
            ], to: config.path)
        stack = try IdemStack(configDirectory: config.path)
        try startUpstream()
    }

    deinit {
        upstream?.stop()
        stack.stop()
    }

    func startUpstream() throws {
        upstream = try ChildProcess(
            "/usr/bin/python3", [PackagePaths.root + "/Tests/Fixtures/upstream.py", String(upstreamPort), log],
            outputPath: work.file("upstream.out"))
        for _ in 0..<200 {
            if HTTPClient.canConnect(port: upstreamPort) { break }
            usleep(25_000)
        }
    }

    func executions() -> Int {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    func post(_ path: String, key: String?, body: String = #"{"item": "book"}"#) throws -> HTTPResult {
        try stack.send("POST", path, headers: json + (key.map { [("Idempotency-Key", $0)] } ?? []), body: body)
    }

    @Test func firstKeyedPostIsForwardedOnceAndTheRetryReplayed() throws {
        let before = executions()
        let first = try post("/orders", key: "order-1")
        #expect(first.status == 201)
        #expect(first.header("Location") != nil)
        #expect(first.header("Set-Cookie")?.hasPrefix("upstream=") == true)
        let seen = try JSONParser.parse(first.body)
        #expect(seen[member: "key"] == .string("order-1"))  // the backend sees the key too
        #expect(seen[member: "body"] == .string(#"{"item": "book"}"#))
        #expect(seen[member: "forwardedFor"]?.stringValue?.contains("127.0.0.1") == true)
        let retry = try post("/orders", key: "order-1")
        #expect(retry.status == 201)
        #expect(retry.header("X-Idempotent-Replay") == "true")
        #expect(retry.body == first.body)
        #expect(retry.header("Location") == first.header("Location"))
        #expect(retry.header("Set-Cookie") == nil)
        #expect(executions() == before + 1)
    }

    @Test func concurrentDuplicatesReachTheUpstreamOnce() throws {
        let before = executions()
        let statuses = Mutex<[Int]>([])
        let (stack, json) = (self.stack, self.json)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let r = try? stack.send("POST", "/slow", headers: json + [("Idempotency-Key", "slow-1")], body: "{}")
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        #expect(statuses.withLock { $0 }.allSatisfy { $0 == 201 || $0 == 409 })
        #expect(executions() == before + 1)
    }

    @Test func upstreamFailureIsNotStoredAndTheRetryIsForwardedAgain() throws {
        let before = executions()
        let a = try post("/fail", key: "fail-1")
        let b = try post("/fail", key: "fail-1")
        #expect(a.status == 500 && b.status == 500)
        #expect(b.header("X-Idempotent-Replay") == nil)
        #expect(executions() == before + 2)
    }

    @Test func upstreamTimeoutIs504AndNotStored() throws {
        let r = try post("/timeout", key: "timeout-1")
        #expect(r.status == 504)
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(r.bodyText.contains("upstream-timeout"))
        #expect(try post("/timeout", key: "timeout-1").status == 504)  // not a replay, not 409
    }

    @Test func refusedUpstreamIs502ProblemJSON() throws {
        let r = try post("/refused", key: "refused-1")
        #expect(r.status == 502)
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(r.bodyText.contains("upstream-unavailable"))
        #expect(!r.bodyText.contains("/orders"))  // only the origin is named
    }

    @Test func pathParametersAndQueryAreRewrittenAsConfigured() throws {
        let r = try stack.send(
            "POST", "/v2/items/42?src=mobile%20app", headers: json + [("Idempotency-Key", "rw-1")], body: "{}")
        #expect(r.status == 201)
        let seen = try JSONParser.parse(r.body)
        #expect(seen[member: "path"] == .string("/orders/42"))
        #expect(seen[member: "query"] == .string("source=mobile%20app"))
    }

    @Test func upstreamDownThenBackNeedsNoRestart() throws {
        upstream.stop()
        let down = try post("/orders", key: "outage-1")
        #expect(down.status == 502)
        try startUpstream()
        let back = try post("/orders", key: "outage-1")
        #expect(back.status == 201)
        #expect(back.header("X-Idempotent-Replay") == nil)
    }
}
