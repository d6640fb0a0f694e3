/// CRC-32C (Castagnoli), the checksum that guards every stored record against torn or
/// corrupted bytes.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c: UInt32 = 0xFFFF_FFFF
            // Every replay checks its record: run over contiguous bytes without per-byte overhead.
            let contiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                for b in buffer { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            }
            if contiguous == nil {
                for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            }
            return c ^ 0xFFFF_FFFF
        }
    }
}
