/// One statement parameter in libpq's binary format (big-endian integers, raw `bytea`).
enum Param {
    case bytes([UInt8])
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)

    var encoded: [UInt8] {
        switch self {
        case .bytes(let b): return b
        case .int16(let v): return bigEndian(UInt64(UInt16(bitPattern: v)), count: 2)
        case .int32(let v): return bigEndian(UInt64(UInt32(bitPattern: v)), count: 4)
        case .int64(let v): return bigEndian(UInt64(bitPattern: v), count: 8)
        }
    }

    private func bigEndian(_ v: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * (count - 1 - $0))) }
    }

    /// The `paramValues`, `paramLengths` and `paramFormats` arrays libpq takes, valid during
    /// `body`. The values live in one buffer with a spare byte, so an empty `bytea` still has a
    /// non-NULL pointer (NULL would mean SQL NULL).
    static func withCArrays<T>(
        _ params: [Param],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
    ) -> T {
        var blob: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        for p in params {
            let e = p.encoded
            offsets.append(blob.count)
            lengths.append(Int32(e.count))
            blob += e
        }
        blob.append(0)
        let formats = [Int32](repeating: 1, count: params.count)
        return blob.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let values: [UnsafePointer<CChar>?] = offsets.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            return values.withUnsafeBufferPointer { v in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in
                        body(Int32(params.count), v.baseAddress, l.baseAddress, f.baseAddress)
                    }
                }
            }
        }
    }
}
