/// `server.json` (optional): how the responder listens and where it keeps state.
/// Command-line flags override these values.
public struct ServerSettings: Sendable, Equatable {
    /// `unix:/path`, `host:port` or `fd:N`; nil means "the socket systemd or spawn-fcgi passed".
    public var listen: String? = "unix:/run/idem/idem.sock"
    /// Permission bits of a unix socket the responder creates (nginx's user must be able to connect).
    public var socketMode: UInt16 = 0o660
    public var workers = 16
    /// Responder processes forked by `idem` (each with `workers` threads).
    public var processes = 1
    public var stateDirectory = "/var/lib/idem"
    public var maxBodyBytes = 1 << 20
    public var store = StoreSettings()
    /// Where the responder answers Prometheus scrapes itself (before routing); nil turns it off.
    /// The shipped nginx site lets only localhost reach it.
    public var metricsPath: String? = "/metrics"
    /// The least severe log level written: `debug`, `info` (one line per request), `notice`,
    /// `warning`, `error` or `critical`.
    public var logLevel = "info"

    public static let logLevels = ["debug", "info", "notice", "warning", "error", "critical"]

    public init() {}

    /// These settings with what a reload may change taken from `reloaded` (`metricsPath`,
    /// `logLevel`); the socket, the worker pool and the store stay until a restart.
    public func applyingReloadable(from reloaded: ServerSettings) -> ServerSettings {
        var next = self
        next.metricsPath = reloaded.metricsPath
        next.logLevel = reloaded.logLevel
        return next
    }

    /// The members whose change `applyingReloadable` leaves for a restart, where `reloaded` differs.
    public func restartOnlyChanges(to reloaded: ServerSettings) -> [String] {
        let changed: [(String, Bool)] = [
            ("listen", listen != reloaded.listen), ("socketMode", socketMode != reloaded.socketMode),
            ("workers", workers != reloaded.workers), ("processes", processes != reloaded.processes),
            ("stateDirectory", stateDirectory != reloaded.stateDirectory),
            ("maxBodyBytes", maxBodyBytes != reloaded.maxBodyBytes), ("store", store != reloaded.store),
        ]
        return changed.filter(\.1).map(\.0)
    }
}

/// Which shared store holds idempotency records, and how.
public struct StoreSettings: Sendable, Equatable {
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is fsynced: nothing committed is lost on power failure.
        case full
        /// The data is fsynced, the meta page lazily: a power failure may lose the last commit.
        case metaAsync = "meta-async"
        /// Commits are not fsynced; each responder flushes the store once a second: a power
        /// failure may lose the last second of commits.
        case periodic
        /// No fsync by Idem: a power failure may lose recent commits (the OS flushes within ~30 s).
        case none
    }

    /// `lmdb` (one machine, the default), `redis` or `postgres` (several machines).
    public var kind = "lmdb"
    /// Redis: `redis://[:password@]host:port/db` or `unix:///path?db=N`.
    public var url: String?
    /// PostgreSQL: a libpq connection string (`host=... dbname=...` or `postgresql://...`).
    public var connection: String?
    /// Connections per responder process (Redis, PostgreSQL).
    public var poolSize = 4
    /// Bounds on every network store operation, so no worker blocks forever.
    public var connectTimeoutMs = 1000
    public var commandTimeoutMs = 2000
    /// The LMDB map size: the most the file may grow to.
    public var mapSizeMiB = 1024
    public var durability = Durability.full
    public var fileName = "idem.mdb"

    public init() {}
}

enum ServerFile {
    static func decode(_ root: ConfigValue) throws(ConfigError) -> ServerSettings {
        var s = ServerSettings()
        for (name, member) in try root.members(allowed: [
            "$schema", "listen", "socketMode", "workers", "processes", "stateDirectory", "maxBodyBytes", "store",
            "metricsPath", "logLevel",
        ]) {
            switch name {
            case "listen":
                let listen = try member.nonEmptyString()
                guard ListenSyntax.isValid(listen) else {
                    throw member.error(
                        "expected unix:/path/to.sock, an IPv4 host:port such as 127.0.0.1:9001, or fd:N; found \"\(listen)\""
                    )
                }
                s.listen = listen
            case "socketMode":
                let text = try member.string()
                guard let mode = UInt16(text, radix: 8), mode <= 0o777 else {
                    throw member.error("expected octal permission bits such as \"0660\", found \"\(text)\"")
                }
                s.socketMode = mode
            case "workers": s.workers = Int(try member.integer(in: 1...1024))
            case "processes": s.processes = Int(try member.integer(in: 1...64))
            case "stateDirectory":
                let dir = try member.nonEmptyString()
                guard dir.hasPrefix("/") else { throw member.error("expected an absolute path, found \"\(dir)\"") }
                s.stateDirectory = dir
            case "maxBodyBytes": s.maxBodyBytes = Int(try member.integer(in: 0...(1 << 30)))
            case "store": s.store = try decodeStore(member)
            case "metricsPath":
                if case .null = member.value {
                    s.metricsPath = nil
                    continue
                }
                let path = try member.nonEmptyString()
                guard path.hasPrefix("/"), !path.contains("?"), !path.contains("{") else {
                    throw member.error(
                        "expected a path such as \"/metrics\" (or null to turn metrics off), found \"\(path)\"")
                }
                s.metricsPath = path
            case "logLevel":
                let level = try member.string()
                guard ServerSettings.logLevels.contains(level) else {
                    throw member.error(
                        "expected one of: \(ServerSettings.logLevels.joined(separator: ", ")), found \"\(level)\"")
                }
                s.logLevel = level
            default: break
            }
        }
        return s
    }

    private static func decodeStore(_ value: ConfigValue) throws(ConfigError) -> StoreSettings {
        var s = StoreSettings()
        for (name, member) in try value.members(allowed: [
            "kind", "mapSizeMiB", "durability", "fileName", "url", "connection", "poolSize", "connectTimeoutMs",
            "commandTimeoutMs",
        ]) {
            switch name {
            case "kind":
                let kind = try member.string()
                guard ["lmdb", "redis", "postgres"].contains(kind) else {
                    throw member.error("unknown store kind \"\(kind)\"; expected \"lmdb\", \"redis\" or \"postgres\"")
                }
                s.kind = kind
            case "url":
                let url = try member.nonEmptyString()
                guard url.hasPrefix("redis://") || url.hasPrefix("unix://") else {
                    throw member.error("expected redis://host:port/db or unix:///path/to/redis.sock, found \"\(url)\"")
                }
                s.url = url
            case "connection": s.connection = try member.nonEmptyString()
            case "poolSize": s.poolSize = Int(try member.integer(in: 1...256))
            case "connectTimeoutMs": s.connectTimeoutMs = Int(try member.integer(in: 1...60_000))
            case "commandTimeoutMs": s.commandTimeoutMs = Int(try member.integer(in: 1...60_000))
            case "mapSizeMiB": s.mapSizeMiB = Int(try member.integer(in: 1...1_048_576))
            case "durability":
                let text = try member.string()
                guard let d = StoreSettings.Durability(rawValue: text) else {
                    throw member.error(
                        "expected one of: \(StoreSettings.Durability.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(text)\""
                    )
                }
                s.durability = d
            case "fileName":
                let file = try member.nonEmptyString()
                guard !file.contains("/") else {
                    throw member.error("expected a file name without '/', found \"\(file)\"")
                }
                s.fileName = file
            default: break
            }
        }
        if s.kind == "redis", s.url == nil { throw value.error("store kind \"redis\" needs \"url\"") }
        if s.kind == "postgres", s.connection == nil {
            throw value.error("store kind \"postgres\" needs \"connection\" (a libpq connection string)")
        }
        return s
    }
}
