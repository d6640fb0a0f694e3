import Idempotency
import Testing

@testable import PostgresStore

/// Its own server: stopping it must not disturb the other suites.
@Suite struct PostgresStoreOutageTests {
    @Test func storeFailsFastWhileServerIsDownAndRecoversWithoutRestart() throws {
        let server = try PostgresServer()
        let connection = try server.makeDatabase()
        try PostgresStore.migrate(connection: connection)
        let store = try PostgresStore(connection: connection, poolSize: 2, statementTimeoutMs: 2000)
        let clock = SystemClock()
        let before = claimRecord("before", at: clock.now())
        #expect(try store.claim(key("before"), before) == .claimed(previous: nil))

        try server.stop()
        for attempt in 0..<3 {
            var failure: StoreError?
            let ms = elapsedMs {
                do throws(StoreError) {
                    _ = try store.claim(key("down\(attempt)"), claimRecord("down\(attempt)", at: clock.now()))
                } catch {
                    failure = error
                }
            }
            guard case .unavailable = failure else {
                Issue.record("attempt \(attempt): expected .unavailable, got \(String(describing: failure))")
                return
            }
            print("PostgresStore: claim with the server down failed in \(ms) ms")
            #expect(ms < 10_000, "attempt \(attempt) took \(ms) ms")
        }
        #expect(throws: StoreError.self) { try store.record(for: key("before")) }

        try server.start()
        // Same instance: stale pooled connections are dropped and new ones made.
        #expect(try store.record(for: key("before")) == before)
        let after = claimRecord("after", at: clock.now())
        #expect(try store.claim(key("after"), after) == .claimed(previous: nil))
        #expect(
            try store.complete(key("after"), token: after.token, with: completed(after, at: clock.now(), body: [1])))
    }
}
