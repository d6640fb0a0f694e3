import Foundation
import Synchronization
import TestSupport
import Testing

/// Crashes and pauses of the responder in the middle of a request: the key is never wedged,
/// a dead owner is taken over at once, and a stale owner cannot overwrite its successor.
@Suite("End to end: crashes, takeovers and fencing", .serialized)
struct CrashRecoveryTests {
    static let routes = [
        TestRoute(
            "post", "/slow", handler: "createPayment", handlerOptions: #"{"latencyMs": 1000}"#,
            idempotency: #"{"lockTimeoutSeconds": 60}"#),
        TestRoute(
            "post", "/strict", handler: "createPayment", handlerOptions: #"{"latencyMs": 1000}"#,
            idempotency: #"{"lockTimeoutSeconds": 60, "strict": true}"#),
        TestRoute(
            "post", "/fence", handler: "createPayment", handlerOptions: #"{"latencyMs": 1500}"#,
            idempotency: #"{"lockTimeoutSeconds": 1}"#),
    ]
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    /// Sends a request on another thread; `wait()` returns its result.
    final class Background: @unchecked Sendable {
        private let result = Mutex<HTTPResult??>(nil)
        init(_ stack: IdemStack, _ path: String, key: String) {
            let thread = Thread { [self] in
                let r = try? stack.send("POST", path, headers: json + [("Idempotency-Key", key)], body: payment)
                self.result.withLock { $0 = .some(r) }
            }
            thread.start()
        }
        func wait() -> HTTPResult? {
            while true {
                if let done = result.withLock({ $0 }) { return done }
                usleep(20_000)
            }
        }
    }

    func makeStack(state: String? = nil) throws -> (TemporaryDirectory, IdemStack) {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write(Self.routes, to: config.path)
        return (config, try IdemStack(configDirectory: config.path, stateDirectory: state))
    }

    func post(_ stack: IdemStack, _ path: String, key: String) throws -> HTTPResult {
        try stack.send("POST", path, headers: Self.json + [("Idempotency-Key", key)], body: Self.payment)
    }

    @Test func killedOwnerIsTakenOverAtOnceAfterRestart() throws {
        let (config, stack) = try makeStack()
        defer { stack.stop(); _ = config }
        let before = try stack.paymentCount()
        let inFlight = Background(stack, "/slow", key: "crash-1")
        usleep(300_000)  // inside the handler
        try stack.crashAndRestartResponder()
        #expect(inFlight.wait()?.status == 503)  // nginx: the responder went away
        let retry = try post(stack, "/slow", key: "crash-1")
        #expect(retry.status == 201)
        #expect(retry.header("X-Idempotent-Replay") == nil)
        #expect(stack.idem.output.contains("takeover_reason=owner-dead"))
        #expect(stack.idem.output.contains("takeover_attempt=2"))
        #expect(try stack.paymentCount() == before + 1)
        let again = try post(stack, "/slow", key: "crash-1")
        #expect(again.header("X-Idempotent-Replay") == "true")
        #expect(again.body == retry.body)
    }

    @Test func strictModeAnswersOutcomeUnknownAfterACrash() throws {
        let (config, stack) = try makeStack()
        defer { stack.stop(); _ = config }
        let before = try stack.paymentCount()
        let inFlight = Background(stack, "/strict", key: "strict-1")
        usleep(300_000)
        try stack.crashAndRestartResponder()
        _ = inFlight.wait()
        let retry = try post(stack, "/strict", key: "strict-1")
        #expect(retry.status == 409)
        #expect(retry.bodyText.contains("outcome-unknown"))
        #expect(try stack.paymentCount() == before)
    }

    @Test func staleOwnerResumingAfterATakeoverCannotOverwrite() throws {
        let state = TemporaryDirectory("idem-shared-state")
        let (configA, a) = try makeStack(state: state.path)
        let (configB, b) = try makeStack(state: state.path)
        defer {
            kill(a.idem.process.processIdentifier, SIGCONT)
            a.stop()
            b.stop()
            _ = (configA, configB)
        }
        let before = try a.paymentCount()
        let stale = Background(a, "/fence", key: "fence-1")
        usleep(300_000)
        kill(a.idem.process.processIdentifier, SIGSTOP)  // paused inside the handler
        usleep(1_200_000)  // its 1 s lease runs out
        let taken = try post(b, "/fence", key: "fence-1")
        #expect(taken.status == 201)
        #expect(b.idem.output.contains("takeover_reason=lease-expired"))
        kill(a.idem.process.processIdentifier, SIGCONT)
        let staleResult = stale.wait()
        #expect(staleResult?.status == 201)  // its client still gets the real answer
        #expect(staleResult?.body != taken.body)
        usleep(100_000)
        #expect(a.idem.output.contains("stored=lease-lost"))
        for stack in [a, b] {
            let replay = try post(stack, "/fence", key: "fence-1")
            #expect(replay.header("X-Idempotent-Replay") == "true")
            #expect(replay.body == taken.body)
        }
        // Both ran: the documented cost of taking over an expired lease (see README).
        #expect(try a.paymentCount() == before + 2)
    }

    /// `kill -9` loses nothing committed in any durability mode: only power loss differs.
    @Test(arguments: ["meta-async", "periodic", "none"])
    func weakerDurabilityStillSurvivesKill9(mode: String) throws {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write([], to: config.path)
        try #"{"store": {"durability": "\#(mode)"}}"#.write(
            toFile: config.file("server.json"), atomically: true, encoding: .utf8)
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        let first = try post(stack, "/payments", key: "durable-\(mode)")
        #expect(first.status == 201)
        try stack.crashAndRestartResponder()
        let replay = try post(stack, "/payments", key: "durable-\(mode)")
        #expect(replay.header("X-Idempotent-Replay") == "true")
        #expect(replay.body == first.body)
    }
}
