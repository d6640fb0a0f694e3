import Digest

/// Who and what a key belongs to: the same key sent by two principals, or to two routes,
/// names two different records.
public struct Scope: Hashable, Sendable {
    public var principal: String
    public var method: String
    public var route: String
    public var key: IdempotencyKey

    public init(principal: String, method: String, route: String, key: IdempotencyKey) {
        self.principal = principal
        self.method = method
        self.route = route
        self.key = key
    }

    /// The store's key for this scope: 0x01 ‖ SHA-256 of the length-prefixed fields.
    public var storeKey: StoreKey {
        var input: [UInt8] = []
        for field in [principal, method, route, key.value] { appendLengthPrefixed(Array(field.utf8), to: &input) }
        return StoreKey(bytes: [StoreKey.recordPrefix] + SHA256.hash(input))
    }
}

/// The fixed-size key a record is stored under (33 bytes).
public struct StoreKey: Hashable, Sendable, CustomStringConvertible {
    public static let recordPrefix: UInt8 = 0x01
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { Hex.encode(bytes) }
}

/// Length-prefixing keeps field boundaries unambiguous: ("ab","c") and ("a","bc") differ.
func appendLengthPrefixed(_ field: [UInt8], to out: inout [UInt8]) {
    let n = UInt32(truncatingIfNeeded: field.count)
    out += [
        UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8),
        UInt8(truncatingIfNeeded: n),
    ]
    out += field
}
