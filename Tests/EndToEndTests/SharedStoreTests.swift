import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// Several machines, one API: two nodes (each its own nginx and responder) on one store, and a
/// store that goes away under load. Runs on the store `IDEM_TEST_STORE` names (make test runs
/// it for LMDB, Redis and PostgreSQL; with LMDB the two nodes share the file on this host).
@Suite("End to end: two nodes on one store, and store outages", .serialized)
struct SharedStoreTests {
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    @Test func sameKeysSentToTwoNodesExecuteOncePerKey() throws {
        let shared = TemporaryDirectory("idem-two-nodes")
        let state = TestStore.current == .lmdb ? shared.path : nil
        let a = try IdemStack(stateDirectory: state, storeGroup: shared.path)
        let b = try IdemStack(stateDirectory: state, storeGroup: shared.path)
        defer {
            a.stop()
            b.stop()
        }
        let before = try a.paymentCount() + (state == nil ? b.paymentCount() : 0)
        let answers = Mutex<[Int: [HTTPResult]]>([:])
        let keys = 100
        DispatchQueue.concurrentPerform(iterations: keys * 4) { i in
            let node = i % 2 == 0 ? a : b
            let key = i / 4
            if let r = try? node.send(
                "POST", "/payments", headers: Self.json + [("Idempotency-Key", "two-nodes-\(key)")], body: Self.payment)
            {
                answers.withLock { $0[key, default: []].append(r) }
            }
        }
        let after = try a.paymentCount() + (state == nil ? b.paymentCount() : 0)
        #expect(after - before == keys)
        for (key, results) in answers.withLock({ $0 }) {
            let bodies = Set(results.filter { $0.status == 201 }.map(\.body))
            #expect(bodies.count == 1, "key \(key)")
            #expect(results.allSatisfy { $0.status == 201 || $0.status == 409 }, "key \(key)")
        }
    }

    @Test(.enabled(if: TestStore.current == .redis, "a Redis outage needs a Redis store"))
    func redisOutageAnswers503AndServiceResumesWithoutRestart() throws {
        let redis = try RedisServer()
        let stack = try IdemStack(
            store: .object([("kind", .string("redis")), ("url", .string(redis.freshURL()))]))
        defer { stack.stop() }
        try outage(stack, stop: { redis.kill() }, start: { try redis.start() })
    }

    @Test(.enabled(if: TestStore.current == .postgres, "a PostgreSQL outage needs a PostgreSQL store"))
    func postgresOutageAnswers503AndServiceResumesWithoutRestart() throws {
        let cluster = try PostgresCluster()
        let stack = try IdemStack(
            store: .object([("kind", .string("postgres")), ("connection", .string(cluster.connection(for: "outage")))]))
        defer { stack.stop() }
        try outage(stack, stop: { try? cluster.stop() }, start: { try cluster.start() })
    }

    func outage(_ stack: IdemStack, stop: () throws -> Void, start: () throws -> Void) throws {
        let before = try stack.paymentCount()
        let first = try stack.send(
            "POST", "/payments", headers: Self.json + [("Idempotency-Key", "o-1")], body: Self.payment)
        #expect(first.status == 201)
        try stop()
        let started = Date()
        for i in 0..<5 {
            let r = try stack.send(
                "POST", "/payments", headers: Self.json + [("Idempotency-Key", "o-down-\(i)")], body: Self.payment)
            #expect(r.status == 503)
            #expect(r.header("Retry-After") != nil)
            #expect(r.bodyText.contains("idempotency-store-unavailable"))
        }
        #expect(Date().timeIntervalSince(started) < 20)  // no request waits forever
        #expect(stack.idem.process.isRunning)
        #expect(try stack.paymentCount() == before + 1)  // fail closed: no handler ran unprotected
        try start()
        var resumed: HTTPResult?
        for _ in 0..<40 {
            resumed = try stack.send(
                "POST", "/payments", headers: Self.json + [("Idempotency-Key", "o-after")], body: Self.payment)
            if resumed?.status == 201 { break }
            usleep(250_000)
        }
        #expect(resumed?.status == 201)
    }
}
