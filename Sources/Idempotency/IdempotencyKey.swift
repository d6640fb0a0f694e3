/// A validated `Idempotency-Key` value: 1–255 characters, visible ASCII (spaces allowed only
/// inside a quoted Structured Field string). `"abc"` and `abc` are the same key.
public struct IdempotencyKey: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }
    public static let maxLength = 255

    /// Why a header value is not a usable key.
    public enum Invalid: Error, Equatable, Sendable {
        case empty
        case tooLong
        /// A comma or several values: nginx joins repeated headers with ", ".
        case list
        case invalidCharacter
        case unterminatedQuote
    }

    public init(unchecked value: String) { self.value = value }

    /// Parses a header field value as sent (surrounding whitespace ignored).
    public static func parse(_ field: String) throws(Invalid) -> IdempotencyKey {
        let bytes = Array(field.utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        guard start < end else { throw .empty }
        var key: [UInt8] = []
        if bytes[start] == UInt8(ascii: "\"") {
            var i = start + 1
            var closed = false
            while i < end {
                let c = bytes[i]
                if c == UInt8(ascii: "\\") {
                    guard i + 1 < end, bytes[i + 1] == 0x22 || bytes[i + 1] == 0x5C else { throw .invalidCharacter }
                    key.append(bytes[i + 1])
                    i += 2
                    continue
                }
                if c == UInt8(ascii: "\"") {
                    closed = true
                    i += 1
                    break
                }
                guard c >= 0x20 && c <= 0x7E else { throw .invalidCharacter }
                key.append(c)
                i += 1
            }
            guard closed else { throw .unterminatedQuote }
            if i < end { throw .list }  // anything after the closing quote: a list or parameters
        } else {
            for c in bytes[start..<end] {
                if c == UInt8(ascii: ",") { throw .list }
                guard c >= 0x21 && c <= 0x7E else { throw .invalidCharacter }
                key.append(c)
            }
        }
        guard !key.isEmpty else { throw .empty }
        guard key.count <= maxLength else { throw .tooLong }
        return IdempotencyKey(unchecked: String(decoding: key, as: UTF8.self))
    }
}
