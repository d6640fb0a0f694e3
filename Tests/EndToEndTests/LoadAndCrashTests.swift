import Foundation
import Synchronization
import TestSupport
import Testing

/// Many processes, threads and duplicates at once, and a responder killed again and again in
/// the middle of all that: exactly-once where it is promised, and never a wedged key.
@Suite("End to end: concurrency and crash loops", .serialized)
struct LoadAndCrashTests {
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    /// Runs `work` for each index on `threads` threads that take indices in order, so items
    /// next to each other run at the same time.
    static func run(_ count: Int, threads: Int, _ work: @escaping @Sendable (Int) -> Void) {
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= count { break }
                    work(i)
                }
                group.leave()
            }.start()
        }
        group.wait()
    }

    @Test func twoProcessesTwoThousandKeysTenTimesEachExecuteOncePerKey() throws {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write([], to: config.path)
        try #"{"processes": 2}"#.write(toFile: config.file("server.json"), atomically: true, encoding: .utf8)
        let stack = try IdemStack(configDirectory: config.path, workers: 8)
        defer { stack.stop() }
        #expect(stack.idem.output.components(separatedBy: "idem started").count - 1 == 2)
        let before = try stack.paymentCount()
        let keys = 2000
        let copies = 10
        let answers = Mutex<[Int: [HTTPResult?]]>([:])
        Self.run(keys * copies, threads: 32) { i in
            let key = i / copies
            let r = try? stack.send(
                "POST", "/payments", headers: Self.json + [("Idempotency-Key", "load-\(key)")], body: Self.payment)
            answers.withLock { $0[key, default: []].append(r) }
        }
        let all = answers.withLock { $0 }
        var executedKeys = 0
        var problems: [String] = []
        for key in 0..<keys {
            let results = all[key] ?? []
            let created = results.compactMap { $0 }.filter { $0.status == 201 }
            let others = results.filter { $0?.status != 201 }
            if Set(created.map(\.body)).count != 1 {
                problems.append("key \(key): \(Set(created.map(\.body)).count) bodies")
            }
            if created.filter({ $0.header("X-Idempotent-Replay") == nil }).count == 1 { executedKeys += 1 }
            for r in others where r?.status != 409 { problems.append("key \(key): status \(r?.status ?? -1)") }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10))")
        #expect(executedKeys == keys)
        #expect(try stack.paymentCount() == before + keys)
    }

    @Test func responderKilledFiftyTimesUnderLoadNeverWedgesAKeyOrChangesAnAnswer() throws {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write(
            [TestRoute("post", "/crash", handler: "createPayment", handlerOptions: #"{"latencyMs": 20}"#)],
            to: config.path)
        let stack = try IdemStack(configDirectory: config.path, workers: 4)
        defer { stack.stop() }
        var generator = SystemRandomNumberGenerator()
        var failures: [String] = []
        for round in 0..<50 {
            let received = Mutex<[String: HTTPResult]>([:])
            let keys = (0..<24).map { "round\(round)-\($0)" }
            let sender = Thread {
                Self.run(keys.count, threads: 6) { i in
                    if let r = try? stack.send(
                        "POST", "/crash", headers: Self.json + [("Idempotency-Key", keys[i])], body: Self.payment),
                        r.status == 201
                    {
                        received.withLock { $0[keys[i]] = r }
                    }
                }
            }
            sender.start()
            usleep(UInt32.random(in: 10_000...120_000, using: &generator))
            try stack.crashAndRestartResponder()
            while sender.isExecuting || !sender.isFinished { usleep(5_000) }

            // Every answer a client got replays byte for byte; every other key runs now.
            let got = received.withLock { $0 }
            for key in keys {
                let retry = try stack.send(
                    "POST", "/crash", headers: Self.json + [("Idempotency-Key", key)], body: Self.payment)
                if let first = got[key] {
                    if retry.body != first.body || retry.header("X-Idempotent-Replay") != "true" {
                        failures.append("round \(round) \(key): replay differs (\(retry.status))")
                    }
                } else if retry.status != 201 {
                    failures.append("round \(round) \(key): retry got \(retry.status), key wedged")
                }
            }
            let verify = Process()
            verify.executableURL = URL(fileURLWithPath: PackagePaths.binary("idemctl"))
            verify.arguments = ["verify", "--config", config.path, "--state-dir", stack.stateDirectory]
            verify.standardOutput = FileHandle.nullDevice
            try verify.run()
            verify.waitUntilExit()
            if verify.terminationStatus != 0 {
                failures.append("round \(round): idemctl verify exit \(verify.terminationStatus)")
            }
            if !failures.isEmpty { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }
}
