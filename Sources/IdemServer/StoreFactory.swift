import Configuration
import Idempotency
import LMDBStore
import PostgresStore
import RedisStore

/// Opens the store `server.json` names: the LMDB file in the state directory, or a Redis or
/// PostgreSQL server shared by several machines.
public enum StoreFactory {
    /// What to call the store in messages: its file or its server.
    public static func describe(_ settings: ServerSettings) -> String {
        switch settings.store.kind {
        case "redis": return settings.store.url ?? "redis"
        case "postgres": return "postgres"
        default: return settings.stateDirectory + "/" + settings.store.fileName
        }
    }

    /// What an operator can do when the store does not open.
    static func advice(_ settings: ServerSettings) -> String {
        switch settings.store.kind {
        case "redis": return "check that redis-server runs at that address and accepts this password and database"
        case "postgres":
            return "check that PostgreSQL runs, accepts the connection string, and that `idemctl migrate` has run"
        default:
            return "check that the file is an Idem store readable and writable by the service user "
                + "(`idemctl verify` inspects it), or move it aside to start with an empty store"
        }
    }

    public static func open(_ settings: ServerSettings) throws(StoreError) -> any InspectableStore {
        let s = settings.store
        switch s.kind {
        case "redis":
            let url: RedisURL
            do {
                url = try RedisURL(s.url ?? "")
            } catch {
                throw .unavailable(error.description)
            }
            return try RedisStore(url: url, connectTimeoutMs: s.connectTimeoutMs, commandTimeoutMs: s.commandTimeoutMs)
        case "postgres":
            return try PostgresStore(
                connection: s.connection ?? "", poolSize: s.poolSize, statementTimeoutMs: s.commandTimeoutMs,
                connectTimeoutSeconds: max(1, s.connectTimeoutMs / 1000))
        default:
            return try LMDBStore(
                path: settings.stateDirectory + "/" + s.fileName, options: Responder.storeOptions(s))
        }
    }
}
