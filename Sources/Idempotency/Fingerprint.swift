import Digest
import HTTP

/// What makes two requests "the same request": SHA-256 over method, path, the query's
/// parameters in sorted order, content type and body. A key reused with another fingerprint
/// is a client bug, answered with 422 instead of replaying the wrong response.
public struct Fingerprint: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { Hex.encode(bytes) }

    public init(of request: Request) {
        var input: [UInt8] = []
        appendLengthPrefixed(Array(request.method.rawValue.utf8), to: &input)
        appendLengthPrefixed(Array(request.path.utf8), to: &input)
        let query = request.query.split(separator: "&", omittingEmptySubsequences: true).map(String.init).sorted()
        appendLengthPrefixed(Array(query.joined(separator: "&").utf8), to: &input)
        appendLengthPrefixed(Array((request.headers["Content-Type"] ?? "").utf8), to: &input)
        appendLengthPrefixed(request.body, to: &input)
        self.bytes = SHA256.hash(input)
    }
}
