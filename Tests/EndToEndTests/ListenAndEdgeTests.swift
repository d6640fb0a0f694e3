import Foundation
import JSON
import TestSupport
import Testing

/// The ways a responder gets its socket, and the errors nginx answers on Idem's behalf.
@Suite("End to end: listening sockets and nginx-side errors", .serialized)
struct ListenAndEdgeTests {
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    func replayWorks(on stack: IdemStack) throws {
        let headers = Self.json + [("Idempotency-Key", "listen-1")]
        let first = try stack.send("POST", "/payments", headers: headers, body: Self.payment)
        let second = try stack.send("POST", "/payments", headers: headers, body: Self.payment)
        #expect(first.status == 201)
        #expect(second.header("X-Idempotent-Replay") == "true")
        #expect(second.body == first.body)
    }

    @Test func responderListensOnTCP() throws {
        let stack = try IdemStack(listen: .tcp)
        defer { stack.stop() }
        try replayWorks(on: stack)
    }

    @Test func responderAdoptsASocketPassedOnStandardInput() throws {
        let stack = try IdemStack(listen: .inheritedStandardInput)
        defer { stack.stop() }
        try replayWorks(on: stack)
        #expect(stack.idem.output.contains("listen=fd:0"))
    }

    /// systemd keeps the socket across `systemctl restart idem`: stopping one responder must
    /// leave it usable for the next, and must not wait for the kill timeout.
    @Test func inheritedSocketSurvivesARestart() throws {
        let stack = try IdemStack(listen: .inheritedStandardInput)
        defer { stack.stop() }
        try replayWorks(on: stack)
        let before = Date()
        try stack.restartResponder()
        #expect(Date().timeIntervalSince(before) < 3)
        let replay = try stack.send(
            "POST", "/payments", headers: Self.json + [("Idempotency-Key", "listen-1")], body: Self.payment)
        #expect(replay.status == 201)
        #expect(replay.header("X-Idempotent-Replay") == "true")
    }

    @Test func bodyOverTheLimitIs413ProblemJSON() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        let big = String(repeating: "x", count: 2 << 20)
        let r = try stack.send("POST", "/payments", headers: Self.json, body: big)
        #expect(r.status == 413)
        #expect(r.header("Content-Type") == "application/problem+json")
    }

    @Test func responderDownIs503ProblemJSONWithRetryAfter() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        stack.idem.stop()
        let r = try stack.send(
            "POST", "/payments", headers: Self.json + [("Idempotency-Key", "down-1")], body: Self.payment)
        #expect(r.status == 503)
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(r.header("Retry-After") == "1")
    }

    @Test func workersFinishInFlightRequestsOnSIGTERM() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        let before = Date()
        stack.idem.stop()
        // Kept-alive idle connections must not hold the process: it exits well before the kill timeout.
        #expect(Date().timeIntervalSince(before) < 3)
        #expect(stack.idem.process.terminationReason == .exit)
        #expect(stack.idem.process.terminationStatus == 0)
        #expect(stack.idem.output.contains("idem stopped"))
    }
}
