import CCrypto

/// SHA-256 from libcrypto (`EVP_Digest` with `EVP_sha256()`): the only importer of CCrypto.
public enum SHA256 {
    public static let byteCount = 32

    /// Fetched once (`EVP_MD_fetch`): `EVP_sha256()` makes every digest look its implementation up again.
    nonisolated(unsafe) private static let algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, algorithm, nil)
            }
        }
        // EVP_Digest fails only on allocation failure inside libcrypto.
        precondition(ok == 1 && length == UInt32(byteCount), "EVP_Digest(SHA-256) failed")
        return out
    }

    public static func hash(_ string: String) -> [UInt8] { hash(Array(string.utf8)) }
}

/// Lowercase hexadecimal, written by hand: `String(format:)` costs ~30 µs per digest.
public enum Hex {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digit(b >> 4)
                out[i + 1] = digit(b & 0x0F)
                i += 2
            }
            return i
        }
    }

    @inline(__always) private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }
}
