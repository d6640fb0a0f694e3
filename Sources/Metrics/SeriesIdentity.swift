/// How a series is named inside a shared slot: the family name, then each label value in the
/// family's label-name order, each as a 16-bit little-endian byte count and its UTF-8 bytes.
/// Label names are not stored: every process registers the same families with the same names.
enum SeriesIdentity {
    /// The encoded identity, or nil when it is longer than `limit` bytes.
    static func encode(family: String, values: [String], limit: Int) -> [UInt8]? {
        var total = 2 + family.utf8.count
        for value in values { total += 2 + value.utf8.count }
        guard total <= limit else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total)
        for part in CollectionOfOne(family) + values {
            let count = part.utf8.count
            bytes.append(UInt8(truncatingIfNeeded: count))
            bytes.append(UInt8(truncatingIfNeeded: count >> 8))
            bytes.append(contentsOf: part.utf8)
        }
        return bytes
    }

    /// The family name and label values of an encoded identity; nil if it is malformed.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> (family: String, values: [String])? {
        var parts: [String] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 2 <= bytes.count else { return nil }
            let count = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            offset += 2
            guard offset + count <= bytes.count else { return nil }
            parts.append(
                String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]), as: UTF8.self))
            offset += count
        }
        guard let family = parts.first else { return nil }
        return (family, Array(parts.dropFirst()))
    }

    /// 64-bit FNV-1a: stable across processes and runs, unlike Swift's per-process seeded `Hasher`.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
