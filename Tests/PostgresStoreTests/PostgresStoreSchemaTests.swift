import Idempotency
import Testing

@testable import PostgresStore

/// One server for every suite but the outage one; each test gets its own database.
let sharedServer = Result { try PostgresServer() }

@Suite struct PostgresStoreSchemaTests {
    @Test func initRefusesAnUnmigratedDatabaseNamingIdemctlMigrate() throws {
        let connection = try sharedServer.get().makeDatabase()
        #expect {
            _ = try PostgresStore(connection: connection)
        } throws: { error in
            guard case .unavailable(let message) = error as? StoreError else { return false }
            return message.contains("run `idemctl migrate`") && message.contains("no Idem schema")
        }
    }

    @Test func migrateIsIdempotentAndInitThenSucceeds() throws {
        let connection = try sharedServer.get().makeDatabase()
        try PostgresStore.migrate(connection: connection)
        try PostgresStore.migrate(connection: connection)
        let store = try PostgresStore(connection: connection)
        try store.migrate()
        let record = claimRecord("a", at: SystemClock().now())
        #expect(try store.claim(key("a"), record) == .claimed(previous: nil))
        try store.migrate()
        #expect(try store.record(for: key("a")) == record)  // migrating again keeps the data
    }

    @Test func databaseOfAnotherVersionIsRefusedByInitAndMigrate() throws {
        let connection = try sharedServer.get().makeDatabase()
        try PostgresStore.migrate(connection: connection)
        let store = try PostgresStore(connection: connection)
        _ = try store._execute("UPDATE idem_schema SET version = 99")
        #expect {
            _ = try PostgresStore(connection: connection)
        } throws: { error in
            guard case .unavailable(let message) = error as? StoreError else { return false }
            return message.contains("version 99") && message.contains("upgrade Idem")
        }
        #expect(throws: StoreError.self) { try store.migrate() }
    }

    @Test func unreachableServerIsUnavailableQuickly() throws {
        let port = try sharedServer.get().port &+ 1
        var failure: StoreError?
        let ms = elapsedMs {
            do throws(StoreError) {
                _ = try PostgresStore(connection: "host=127.0.0.1 port=\(port) user=postgres connect_timeout=2")
            } catch {
                failure = error
            }
        }
        guard case .unavailable(let message) = failure else {
            Issue.record("expected .unavailable, got \(String(describing: failure))")
            return
        }
        #expect(message.contains("connect"))
        #expect(ms < 10_000)
    }

    @Test func closedStoreIsUnavailable() throws {
        let store = try sharedServer.get().makeStore()
        store.close()
        store.close()
        #expect(throws: StoreError.unavailable("PostgreSQL store is closed")) {
            try store.record(for: key("a"))
        }
    }
}
