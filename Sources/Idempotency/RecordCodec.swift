/// The versioned binary form of `IdempotencyRecord`, shared by every store.
///
/// Layout (big-endian): "IDEM" magic, u8 format version, u8 state, u32 attempt,
/// i64 createdAt, i64 expiresAt, i64 leaseUntil, 16-byte token, 32-byte fingerprint,
/// u8 has-response, [u16 status, u32 header count, (bytes name, bytes value)*, bytes body],
/// bytes principal, bytes method, bytes route, bytes key, bytes owner,
/// u32 CRC-32C of everything before it.
/// "bytes" is a u32 length followed by that many bytes.
public enum RecordCodec {
    public static let formatVersion: UInt8 = 2
    static let magic: [UInt8] = Array("IDEM".utf8)

    /// Why stored bytes could not be turned back into a record; such a record is never replayed.
    public enum DecodeError: Error, Equatable, Sendable {
        case notARecord
        case unsupportedVersion(UInt8)
        case checksumMismatch
        case truncated
    }

    public static func encode(_ r: IdempotencyRecord) -> [UInt8] {
        var w = Writer()
        w.bytes(magic)
        w.u8(formatVersion)
        w.u8(r.state.rawValue)
        w.u32(r.attempt)
        w.i64(r.createdAt)
        w.i64(r.expiresAt)
        w.i64(r.leaseUntil)
        w.bytes(r.token.bytes)
        w.bytes(r.fingerprint.bytes)
        if let response = r.response {
            w.u8(1)
            w.u16(UInt16(clamping: response.status))
            w.u32(UInt32(response.headers.count))
            for (name, value) in response.headers {
                w.field(Array(name.utf8))
                w.field(Array(value.utf8))
            }
            w.field(response.body)
        } else {
            w.u8(0)
        }
        for s in [r.principal, r.method, r.route, r.key, r.owner] { w.field(Array(s.utf8)) }
        w.u32(CRC32C.checksum(w.out))
        return w.out
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> IdempotencyRecord {
        guard bytes.count >= magic.count + 1, Array(bytes[0..<magic.count]) == magic else { throw .notARecord }
        let version = bytes[magic.count]
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        guard bytes.count >= magic.count + 5 else { throw .truncated }
        let body = bytes[0..<(bytes.count - 4)]
        var tail = Reader(bytes: bytes, index: bytes.count - 4, end: bytes.count)
        guard try tail.u32() == CRC32C.checksum(body) else { throw .checksumMismatch }
        var r = Reader(bytes: bytes, index: magic.count + 1, end: body.count)
        guard let state = IdempotencyRecord.State(rawValue: try r.u8()) else { throw .notARecord }
        let attempt = try r.u32()
        let createdAt = try r.i64()
        let expiresAt = try r.i64()
        let leaseUntil = try r.i64()
        let token = ClaimToken(bytes: try r.take(ClaimToken.byteCount))
        let fingerprint = Fingerprint(bytes: try r.take(Fingerprint.byteCount))
        var response: StoredResponse?
        if try r.u8() == 1 {
            let status = Int(try r.u16())
            let count = try r.u32()
            guard count <= 10_000 else { throw .truncated }
            var headers: [(String, String)] = []
            for _ in 0..<count { headers.append((try r.string(), try r.string())) }
            response = StoredResponse(status: status, headers: headers, body: try r.field())
        }
        let principal = try r.string()
        let method = try r.string()
        let route = try r.string()
        let key = try r.string()
        let owner = try r.string()
        guard r.index == r.end else { throw .truncated }
        return IdempotencyRecord(
            state: state, fingerprint: fingerprint, createdAt: createdAt, expiresAt: expiresAt, leaseUntil: leaseUntil,
            token: token, attempt: attempt, response: response,
            scope: Scope(principal: principal, method: method, route: route, key: IdempotencyKey(unchecked: key)),
            owner: owner)
    }

    private struct Writer {
        var out: [UInt8] = []
        mutating func u8(_ v: UInt8) { out.append(v) }
        mutating func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        mutating func u32(_ v: UInt32) {
            for shift in stride(from: 24, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift)))
            }
        }
        mutating func i64(_ v: Int64) {
            let u = UInt64(bitPattern: v)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: u >> UInt64(shift)))
            }
        }
        mutating func bytes(_ b: [UInt8]) { out += b }
        mutating func field(_ b: [UInt8]) {
            u32(UInt32(b.count))
            out += b
        }
    }

    /// Reads `bytes[index..<end]` front to back.
    private struct Reader {
        let bytes: [UInt8]
        var index: Int
        let end: Int
        mutating func take(_ n: Int) throws(DecodeError) -> [UInt8] {
            guard n >= 0, end - index >= n else { throw .truncated }
            defer { index += n }
            return Array(bytes[index..<(index + n)])
        }
        /// A big-endian integer of `n` bytes, read in place (no copy: records are decoded on every replay).
        private mutating func integer(_ n: Int) throws(DecodeError) -> UInt64 {
            guard end - index >= n else { throw .truncated }
            var v: UInt64 = 0
            for i in index..<(index + n) { v = v << 8 | UInt64(bytes[i]) }
            index += n
            return v
        }
        mutating func u8() throws(DecodeError) -> UInt8 { UInt8(try integer(1)) }
        mutating func u16() throws(DecodeError) -> UInt16 { UInt16(try integer(2)) }
        mutating func u32() throws(DecodeError) -> UInt32 { UInt32(try integer(4)) }
        mutating func i64() throws(DecodeError) -> Int64 { Int64(bitPattern: try integer(8)) }
        mutating func field() throws(DecodeError) -> [UInt8] { try take(Int(try u32())) }
        mutating func string() throws(DecodeError) -> String {
            let n = Int(try u32())
            guard n >= 0, end - index >= n else { throw .truncated }
            defer { index += n }
            return String(decoding: bytes[index..<(index + n)], as: UTF8.self)
        }
    }
}
