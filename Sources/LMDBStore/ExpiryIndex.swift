import Idempotency

/// Keys of the "expiry" database: 8-byte big-endian expiresAt ‖ store key, so a cursor walks
/// records oldest-expiry first. The sign bit is flipped (offset binary) so that byte order
/// matches numeric order for every Int64, not only for positive ones.
enum ExpiryIndex {
    static let timeByteCount = 8

    static func key(expiresAt: Timestamp, _ key: StoreKey) -> [UInt8] {
        let biased = UInt64(bitPattern: expiresAt) ^ (1 << 63)
        var out = [UInt8]()
        out.reserveCapacity(timeByteCount + key.bytes.count)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: biased >> UInt64(shift)))
        }
        return out + key.bytes
    }

    /// The expiry time and store key an index key was built from; nil if it is too short.
    static func parse(_ bytes: [UInt8]) -> (expiresAt: Timestamp, key: StoreKey)? {
        guard bytes.count > timeByteCount else { return nil }
        let biased = bytes[0..<timeByteCount].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (Int64(bitPattern: biased ^ (1 << 63)), StoreKey(bytes: Array(bytes[timeByteCount...])))
    }
}
