/// Where the Redis server is: `redis://[:password@]host[:port][/db]` or
/// `unix:///path/to/redis.sock[?db=N&password=P]`.
public struct RedisURL: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int32)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var password: String?
    public var database: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Invalid) {
        if text.hasPrefix("unix://") {
            let rest = text.dropFirst(7)
            let parts = rest.split(separator: "?", maxSplits: 1)
            guard let path = parts.first, path.hasPrefix("/") else {
                throw Invalid(description: "expected unix:///path/to/redis.sock, found \(text)")
            }
            endpoint = .unix(path: String(path))
            password = nil
            database = 0
            for pair in parts.dropFirst().first?.split(separator: "&") ?? [] {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { continue }
                if kv[0] == "db" {
                    guard let db = Int(kv[1]), db >= 0 else {
                        throw Invalid(description: "db must be a number in \(text)")
                    }
                    database = db
                } else if kv[0] == "password" {
                    password = kv[1]
                }
            }
            return
        }
        guard text.hasPrefix("redis://") else {
            throw Invalid(description: "expected redis://host:port/db or unix:///path, found \(text)")
        }
        var rest = Substring(text.dropFirst(8))
        password = nil
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            password = credentials.split(separator: ":", maxSplits: 1).last.map(String.init)
            rest = rest[rest.index(after: at)...]
        }
        database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else {
                    throw Invalid(description: "the database must be a number in \(text)")
                }
                database = n
            }
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port: Int32 = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int32(rest[rest.index(after: colon)...]), p > 0, p < 65536 else {
                throw Invalid(description: "the port must be a number in \(text)")
            }
            port = p
            host = String(rest[..<colon])
        }
        guard !host.isEmpty else { throw Invalid(description: "no host in \(text)") }
        endpoint = .tcp(host: host, port: port)
    }
}
