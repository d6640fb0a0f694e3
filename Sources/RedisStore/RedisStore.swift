import CHiredis
import Foundation
import Idempotency
import Synchronization

/// The shared store for several machines on one Redis (hiredis). Each primitive is one
/// atomic step on the server: a claim is `SET key record NX PX ttl` inside a script that
/// returns the existing record when there is one; completion, release and takeover are
/// scripts that first check the stored claim's token (fencing). Expiry is Redis's own TTL.
///
/// Times inside records come from the responders' clocks (keep them NTP-synced); TTLs are
/// relative, so Redis's clock decides expiry.
///
/// `@unchecked Sendable`: connections live in a mutex-guarded pool and each is used by one
/// thread at a time; a connection that saw an error is dropped, never returned.
public final class RedisStore: InspectableStore, @unchecked Sendable {
    public let url: RedisURL
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private let idle = Mutex<[RedisConnectionBox]>([])
    private let closed = Atomic<Bool>(false)

    static let prefix = Array("idem:".utf8)

    /// Connects once to check the server: it must answer, and its `maxmemory-policy` must be
    /// `noeviction` (any other policy may evict a running claim or a stored response, and a
    /// retry would then run the operation again).
    public init(url: RedisURL, connectTimeoutMs: Int = 1000, commandTimeoutMs: Int = 2000) throws(StoreError) {
        self.url = url
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        let connection = try connect()
        let policy = try connection.command(["CONFIG", "GET", "maxmemory-policy"].map { Array($0.utf8) })
        guard case .array(let pair) = policy, pair.count == 2, case .string(let value) = pair[1] else {
            throw .unavailable("redis: cannot read maxmemory-policy (CONFIG GET refused?)")
        }
        let name = String(decoding: value, as: UTF8.self)
        guard name == "noeviction" else {
            throw .unavailable(
                "redis: maxmemory-policy is \(name), which may evict idempotency records (a retry would then run the "
                    + "operation again); set maxmemory-policy noeviction on this server")
        }
        idle.withLock { $0.append(RedisConnectionBox(connection)) }
    }

    private func connect() throws(StoreError) -> RedisConnection {
        try RedisConnection(url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
    }

    /// Runs `body` on a pooled connection; one that failed is dropped, so the next call
    /// reconnects (the store recovers by itself when Redis returns).
    func withConnection<T>(_ body: (RedisConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        guard !closed.load(ordering: .relaxed) else { throw .unavailable("redis: store is closed") }
        let connection: RedisConnection
        if let pooled = idle.withLock({ $0.popLast() }) {
            connection = pooled.connection
        } else {
            connection = try connect()
        }
        do throws(StoreError) {
            let result = try body(connection)
            if !connection.isBroken { idle.withLock { $0.append(RedisConnectionBox(connection)) } }
            return result
        } catch {
            if !connection.isBroken, case .corrupt = error {
                idle.withLock { $0.append(RedisConnectionBox(connection)) }
            }
            throw error
        }
    }

    static func key(_ key: StoreKey) -> [UInt8] { prefix + key.bytes }

    /// Milliseconds the record should live on the server from now.
    static func ttl(_ r: IdempotencyRecord) -> Int64 {
        let from = r.state == .inProgress ? r.createdAt : max(r.createdAt, r.leaseUntil)
        return max(1, r.expiresAt - from)
    }

    // KEYS[1] key, ARGV[1] record, ARGV[2] ttl ms: nil when claimed, else the stored record.
    static let claimScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
        return redis.call('GET', KEYS[1])
        """

    // KEYS[1] key, ARGV[1] expected token, ARGV[2] new record (or '' to delete), ARGV[3] ttl:
    // acts only while the stored record is in progress (byte 6) and holds the token (35–50).
    static let fencedScript = """
        local v = redis.call('GET', KEYS[1])
        if not v or string.byte(v, 6) ~= 1 or string.sub(v, 35, 50) ~= ARGV[1] then return 0 end
        if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
        return 1
        """

    public func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        let bytes = RecordCodec.encode(record)
        let args: [[UInt8]] = [
            Array("EVAL".utf8), Array(Self.claimScript.utf8), Array("1".utf8), Self.key(key), bytes,
            Array(String(Self.ttl(record)).utf8),
        ]
        let reply: RedisValue
        do {
            reply = try withConnection { c throws(StoreError) in try c.command(args) }
        } catch {
            // A timed-out claim may have been applied: read the key back before deciding.
            guard case .unavailable = error, let stored = try? self.record(for: key) else { throw error }
            if stored.token == record.token { return .claimed(previous: nil) }
            return .existing(stored)
        }
        switch reply {
        case .null: return .claimed(previous: nil)
        case .string(let existing): return .existing(try Self.decode(existing, key))
        default: throw .unavailable("redis: unexpected reply to claim")
        }
    }

    public func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    {
        guard let current = try self.record(for: key), ClaimDecision.mayTakeOver(current, from: token) else {
            return false
        }
        var done = record
        done.attempt = current.attempt  // a takeover's attempt number survives completion
        return try fencedSet(key, token: token, value: RecordCodec.encode(done), ttl: Self.ttl(done))
    }

    public func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool {
        try fencedSet(key, token: token, value: [], ttl: 1)
    }

    public func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError)
        -> Bool
    {
        guard let current = try self.record(for: key), ClaimDecision.mayTakeOver(current, from: token) else {
            return false
        }
        var next = record
        next.attempt = current.attempt &+ 1
        return try fencedSet(key, token: token, value: RecordCodec.encode(next), ttl: Self.ttl(next))
    }

    private func fencedSet(_ key: StoreKey, token: ClaimToken, value: [UInt8], ttl: Int64) throws(StoreError) -> Bool {
        let args: [[UInt8]] = [
            Array("EVAL".utf8), Array(Self.fencedScript.utf8), Array("1".utf8), Self.key(key), token.bytes, value,
            Array(String(ttl).utf8),
        ]
        guard case .integer(let n) = try withConnection({ c throws(StoreError) in try c.command(args) }) else {
            throw .unavailable("redis: unexpected reply to a fenced write")
        }
        return n == 1
    }

    public func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? {
        let reply = try withConnection { c throws(StoreError) in try c.command([Array("GET".utf8), Self.key(key)]) }
        guard case .string(let bytes) = reply else { return nil }
        return try Self.decode(bytes, key)
    }

    static func decode(_ bytes: [UInt8], _ key: StoreKey) throws(StoreError) -> IdempotencyRecord {
        do throws(RecordCodec.DecodeError) {
            return try RecordCodec.decode(bytes)
        } catch {
            throw .corrupt("redis record \(key): \(error)")
        }
    }

    // MARK: InspectableStore

    public func forEachRecord(_ visit: (StoreKey, Result<IdempotencyRecord, StoreError>) -> Bool) throws(StoreError) {
        var cursor = "0"
        repeat {
            let reply = try withConnection { c throws(StoreError) in
                try c.command(["SCAN", cursor, "MATCH", "idem:*", "COUNT", "500"].map { Array($0.utf8) })
            }
            guard case .array(let parts) = reply, parts.count == 2, case .string(let next) = parts[0],
                case .array(let keys) = parts[1]
            else { throw .unavailable("redis: unexpected reply to SCAN") }
            cursor = String(decoding: next, as: UTF8.self)
            for case .string(let raw) in keys where raw.count > Self.prefix.count {
                let key = StoreKey(bytes: Array(raw.dropFirst(Self.prefix.count)))
                let result: Result<IdempotencyRecord, StoreError>
                do throws(StoreError) {
                    guard let record = try self.record(for: key) else { continue }
                    result = .success(record)
                } catch {
                    result = .failure(error)
                }
                if !visit(key, result) { return }
            }
        } while cursor != "0"
    }

    public func purge(_ key: StoreKey) throws(StoreError) -> Bool {
        let reply = try withConnection { c throws(StoreError) in try c.command([Array("DEL".utf8), Self.key(key)]) }
        return reply == .integer(1)
    }

    /// Redis expires records itself (their TTL): nothing to sweep.
    public func sweep(now: Timestamp, limit: Int) throws(StoreError) -> Int { 0 }

    public func close() {
        closed.store(true, ordering: .relaxed)
        idle.withLock { $0.removeAll() }
    }
}

/// A connection in the pool (a class, so the pool's array is `Sendable`-friendly).
final class RedisConnectionBox: @unchecked Sendable {
    let connection: RedisConnection
    init(_ connection: RedisConnection) { self.connection = connection }
}
