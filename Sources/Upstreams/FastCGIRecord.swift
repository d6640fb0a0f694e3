/// One FastCGI 1.0 record: an 8-byte header (version, type, request id, content length,
/// padding length, reserved), the content, then padding that carries no meaning.
struct FastCGIRecord: Equatable {
    /// The record types this client sends or understands (FastCGI 1.0 §8).
    struct Kind: RawRepresentable, Equatable {
        let rawValue: UInt8
        static let beginRequest = Kind(rawValue: 1)
        static let endRequest = Kind(rawValue: 3)
        static let params = Kind(rawValue: 4)
        static let stdin = Kind(rawValue: 5)
        static let stdout = Kind(rawValue: 6)
        static let stderr = Kind(rawValue: 7)
    }

    static let version: UInt8 = 1
    static let headerLength = 8
    /// The content length field is 16 bits: longer streams are split into several records.
    static let maxContentLength = 65535
    /// Role RESPONDER in FCGI_BeginRequestBody.
    static let responderRole: UInt16 = 1
    /// Every request of this client has id 1: one request per connection, no multiplexing.
    static let requestID: UInt16 = 1

    var kind: Kind
    var requestID: UInt16
    var content: [UInt8]

    /// The record's bytes, without padding (padding is optional for senders).
    func encoded() -> [UInt8] {
        precondition(content.count <= Self.maxContentLength, "split streams before encoding")
        var bytes: [UInt8] = [
            Self.version, kind.rawValue, UInt8(requestID >> 8), UInt8(requestID & 0xFF),
            UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0, 0,
        ]
        bytes += content
        return bytes
    }

    /// The header fields of a received record.
    struct Header: Equatable {
        var version: UInt8
        var kind: Kind
        var requestID: UInt16
        var contentLength: Int
        var paddingLength: Int

        init(_ b: [UInt8]) {
            precondition(b.count == FastCGIRecord.headerLength)
            version = b[0]
            kind = Kind(rawValue: b[1])
            requestID = UInt16(b[2]) << 8 | UInt16(b[3])
            contentLength = Int(b[4]) << 8 | Int(b[5])
            paddingLength = Int(b[6])
        }
    }

    /// BEGIN_REQUEST for a responder; flags 0 (no FCGI_KEEP_CONN) so the server closes the
    /// connection after END_REQUEST, as a connection serves one request here.
    static func beginRequest() -> [UInt8] {
        let body: [UInt8] = [UInt8(responderRole >> 8), UInt8(responderRole & 0xFF), 0, 0, 0, 0, 0, 0]
        return FastCGIRecord(kind: .beginRequest, requestID: requestID, content: body).encoded()
    }

    /// A stream (PARAMS or STDIN) as records of at most 65535 bytes, ended by an empty record.
    static func stream(_ kind: Kind, _ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + (data.count / maxContentLength + 2) * headerLength)
        var start = 0
        while start < data.count {
            let end = min(start + maxContentLength, data.count)
            bytes += FastCGIRecord(kind: kind, requestID: requestID, content: Array(data[start..<end])).encoded()
            start = end
        }
        bytes += FastCGIRecord(kind: kind, requestID: requestID, content: []).encoded()
        return bytes
    }

    /// Name-value pairs (§3.4): each length takes 1 byte when below 128, else 4 bytes with the
    /// high bit set. A pair may straddle two PARAMS records; `stream` splits the whole blob.
    static func nameValuePairs(_ pairs: [(String, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (name, value) in pairs {
            let n = Array(name.utf8)
            let v = Array(value.utf8)
            appendLength(n.count, to: &bytes)
            appendLength(v.count, to: &bytes)
            bytes += n
            bytes += v
        }
        return bytes
    }

    private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        if length < 128 {
            bytes.append(UInt8(length))
        } else {
            precondition(length <= 0x7FFF_FFFF, "a FastCGI name or value is at most 2^31-1 bytes")
            bytes += [
                UInt8((length >> 24) & 0x7F) | 0x80, UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF),
                UInt8(length & 0xFF),
            ]
        }
    }
}
