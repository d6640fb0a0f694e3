import Foundation
import JSON

/// Which store the end-to-end suites run against: `IDEM_TEST_STORE=redis|postgres` runs the
/// same behavioural suites on a shared store (make test does it after the LMDB run).
public enum TestStore: String, Sendable {
    case lmdb, redis, postgres

    public static let current =
        TestStore(rawValue: ProcessInfo.processInfo.environment["IDEM_TEST_STORE"] ?? "") ?? .lmdb

    /// The `store` member of server.json for a stack whose state directory (or store group)
    /// is `state`; nil for LMDB, which lives in the state directory.
    public func json(for state: String) -> JSONValue? {
        switch self {
        case .lmdb: return nil
        case .redis:
            return .object([("kind", .string("redis")), ("url", .string(RedisServer.shared.freshURL(for: state)))])
        case .postgres:
            return .object([
                ("kind", .string("postgres")), ("connection", .string(PostgresCluster.shared.connection(for: state))),
            ])
        }
    }
}
