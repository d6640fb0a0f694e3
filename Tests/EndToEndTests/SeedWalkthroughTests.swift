import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// The Zuplo example's curl walkthrough, through a real nginx (the shipped site file) and the
/// real responder with the shipped config/.
@Suite("End to end: the seed walkthrough through nginx", .serialized)
final class SeedWalkthroughTests {
    let stack: IdemStack
    let json = [("Content-Type", "application/json")]
    let payment = #"{"amount": 100, "currency": "USD"}"#

    init() throws { stack = try IdemStack() }
    deinit { stack.stop() }

    func paymentCount() throws -> Int {
        let list = try stack.send("GET", "/payments")
        #expect(list.status == 200)
        let doc = try JSONParser.parse(list.body)
        return Int(doc[member: "count"]?.integerValue ?? -1)
    }

    @Test func keyedRetryIsReplayedAndRunsOnce() throws {
        let headers = json + [("Idempotency-Key", "payment-abc-123")]
        let first = try stack.send("POST", "/payments", headers: headers, body: payment)
        #expect(first.status == 201)
        #expect(first.header("X-Idempotent-Replay") == nil)
        #expect(first.header("Content-Type") == "application/json")
        let created = try JSONParser.parse(first.body)
        let id = try #require(created[member: "id"]?.stringValue)
        #expect(id.hasPrefix("pay_"))
        #expect(created[member: "amount"] == .number("100"))
        #expect(created[member: "currency"] == .string("USD"))
        #expect(first.header("Location") == "/payments/\(id)")

        let second = try stack.send("POST", "/payments", headers: headers, body: payment)
        #expect(second.status == 201)
        #expect(second.header("X-Idempotent-Replay") == "true")
        #expect(second.body == first.body)
        #expect(second.header("Location") == first.header("Location"))
        #expect(try paymentCount() == 1)

        let fetched = try stack.send("GET", "/payments/\(id)")
        #expect(fetched.status == 200)
        #expect(fetched.body == first.body)

        // Requests without a key are processed every time.
        let a = try stack.send("POST", "/payments", headers: json, body: payment)
        let b = try stack.send("POST", "/payments", headers: json, body: payment)
        #expect(a.status == 201 && b.status == 201)
        #expect(a.header("X-Idempotent-Replay") == nil && b.header("X-Idempotent-Replay") == nil)
        #expect(a.body != b.body)
        #expect(try paymentCount() == 3)
    }

    @Test func malformedBodyIsProblemJSONAndCreatesNothing() throws {
        let before = try paymentCount()
        for body in [
            #"{"amount": 100, "currency": "US"#, #"{"amount": -5, "currency": "USD"}"#, #"{"currency": "USD"}"#, "[]",
        ] {
            let r = try stack.send(
                "POST", "/payments", headers: json + [("Idempotency-Key", "bad-\(body.count)")], body: body)
            #expect(r.status == 400, "body \(body)")
            #expect(r.header("Content-Type") == "application/problem+json")
            let problem = try JSONParser.parse(r.body)
            #expect(problem[member: "status"] == .number("400"))
            #expect(problem[member: "type"]?.stringValue?.hasSuffix("invalid-payment") == true)
        }
        #expect(try paymentCount() == before)
        // A 400 is not stored: the same key with a valid body now runs.
        let fixed = try stack.send("POST", "/payments", headers: json + [("Idempotency-Key", "bad-20")], body: payment)
        #expect(fixed.status == 201)
        #expect(fixed.header("X-Idempotent-Replay") == nil)
    }

    @Test func sameKeyWithAnotherBodyIs422() throws {
        let headers = json + [("Idempotency-Key", "reuse-1")]
        let first = try stack.send("POST", "/payments", headers: headers, body: payment)
        #expect(first.status == 201)
        let before = try paymentCount()
        let other = try stack.send("POST", "/payments", headers: headers, body: #"{"amount": 999, "currency": "USD"}"#)
        #expect(other.status == 422)
        #expect(other.header("Content-Type") == "application/problem+json")
        #expect(try paymentCount() == before)
    }

    @Test func invalidKeysAre400() throws {
        let long = String(repeating: "k", count: 256)
        for key in [long, "a, b", "\"unterminated"] {
            let r = try stack.send("POST", "/payments", headers: json + [("Idempotency-Key", key)], body: payment)
            #expect(r.status == 400, "key \(key.prefix(20))")
            #expect(r.header("Content-Type") == "application/problem+json")
        }
        // A quoted key and the bare token are the same key.
        let bare = try stack.send("POST", "/payments", headers: json + [("Idempotency-Key", "quoted-1")], body: payment)
        let quoted = try stack.send(
            "POST", "/payments", headers: json + [("Idempotency-Key", "\"quoted-1\"")], body: payment)
        #expect(bare.status == 201)
        #expect(quoted.header("X-Idempotent-Replay") == "true")
        #expect(quoted.body == bare.body)
    }

    @Test func concurrentDuplicatesRunOnce() throws {
        let before = try paymentCount()
        let results = Mutex<[Int]>([])
        let (stack, json, payment) = (self.stack, self.json, self.payment)
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let r = try? stack.send(
                "POST", "/payments", headers: json + [("Idempotency-Key", "burst-1")], body: payment)
            results.withLock { $0.append(r?.status ?? -1) }
        }
        let statuses = results.withLock { $0 }
        #expect(statuses.allSatisfy { $0 == 201 || $0 == 409 }, "\(statuses)")
        #expect(try paymentCount() == before + 1)
        let retry = try stack.send("POST", "/payments", headers: json + [("Idempotency-Key", "burst-1")], body: payment)
        #expect(retry.status == 201)
        #expect(retry.header("X-Idempotent-Replay") == "true")
    }

    @Test func unknownRoutesAndMethodsAreProblems() throws {
        let missing = try stack.send("GET", "/nope")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")
        let wrong = try stack.send("DELETE", "/payments")
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow")?.contains("POST") == true)
        let absent = try stack.send("GET", "/payments/pay_doesnotexist")
        #expect(absent.status == 404)
    }

    @Test func recordsSurviveAResponderRestart() throws {
        let headers = json + [("Idempotency-Key", "restart-1")]
        let first = try stack.send("POST", "/payments", headers: headers, body: payment)
        #expect(first.status == 201)
        try stack.restartResponder()
        let again = try stack.send("POST", "/payments", headers: headers, body: payment)
        #expect(again.header("X-Idempotent-Replay") == "true")
        #expect(again.body == first.body)
    }
}
