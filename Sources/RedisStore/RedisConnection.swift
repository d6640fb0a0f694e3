import CHiredis
import Foundation
import Idempotency

/// A Redis reply, copied out of hiredis's `redisReply` before it is freed.
enum RedisValue: Equatable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisValue])
    case status(String)
    case null
}

/// One connection (`redisContext`). hiredis marks a context dead after any I/O or protocol
/// error, so a failed connection is never reused: the pool drops it and connects anew.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// `redisConnectWithTimeout` / `redisConnectUnixWithTimeout`, then `redisSetTimeout`,
    /// `AUTH` and `SELECT` as the URL asks.
    init(_ url: RedisURL, connectTimeoutMs: Int, commandTimeoutMs: Int) throws(StoreError) {
        let connectTimeout = timeval(tv_sec: connectTimeoutMs / 1000, tv_usec: (connectTimeoutMs % 1000) * 1000)
        let made: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, port, connectTimeout)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let made else { throw .unavailable("redis: cannot allocate a connection") }
        context = made
        // From here on `deinit` frees the context, also when `init` throws.
        guard made.pointee.err == 0 else { throw .unavailable("redis: connect: \(Self.errorString(made))") }
        let commandTimeout = timeval(tv_sec: commandTimeoutMs / 1000, tv_usec: (commandTimeoutMs % 1000) * 1000)
        redisSetTimeout(made, commandTimeout)
        if let password = url.password {
            guard case .status = try command(["AUTH", password].map { Array($0.utf8) }) else {
                throw .unavailable("redis: AUTH refused")
            }
        }
        if url.database != 0 {
            _ = try command(["SELECT", String(url.database)].map { Array($0.utf8) })
        }
    }

    deinit { redisFree(context) }

    /// True once hiredis has seen an error: the connection must not be used again.
    var isBroken: Bool { context.pointee.err != 0 }

    /// `redisCommandArgv`: binary-safe arguments, one round trip.
    func command(_ arguments: [[UInt8]]) throws(StoreError) -> RedisValue {
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        let buffers = arguments.map { bytes -> UnsafeMutableBufferPointer<CChar> in
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(bytes.count, 1))
            for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
            return buffer
        }
        defer { for b in buffers { b.deallocate() } }
        for (buffer, bytes) in zip(buffers, arguments) {
            pointers.append(UnsafePointer(buffer.baseAddress))
            lengths.append(bytes.count)
        }
        let raw = pointers.withUnsafeMutableBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in
                redisCommandArgv(context, Int32(arguments.count), p.baseAddress, l.baseAddress)
            }
        }
        guard let raw else {
            throw .unavailable("redis: \(Self.errorString(context))")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        if reply.pointee.type == REDIS_REPLY_ERROR {
            throw .unavailable("redis: \(String(decoding: Self.bytes(reply), as: UTF8.self))")
        }
        return Self.value(reply)
    }

    private static func value(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        switch reply.pointee.type {
        case REDIS_REPLY_STRING: return .string(bytes(reply))
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(reply), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.pointee.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.pointee.elements).compactMap { i in reply.pointee.element[i].map(value) })
        default: return .null
        }
    }

    private static func bytes(_ reply: UnsafeMutablePointer<redisReply>) -> [UInt8] {
        guard let str = reply.pointee.str, reply.pointee.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: reply.pointee.len))
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
