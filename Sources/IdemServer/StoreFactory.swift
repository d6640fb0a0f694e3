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
