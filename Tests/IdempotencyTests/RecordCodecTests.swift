import Idempotency
import Testing

@Suite("Record encoding")
struct RecordCodecTests {
    static func sample() -> IdempotencyRecord {
        IdempotencyRecord(
            state: .complete, fingerprint: Fingerprint(bytes: Array(repeating: 7, count: 32)), createdAt: 1000,
            expiresAt: 2000, leaseUntil: 1500, token: ClaimToken(bytes: Array(0..<16)), attempt: 3,
            response: StoredResponse(
                status: 201, headers: [("Content-Type", "application/json"), ("Location", "/p/1")],
                body: Array("{}".utf8)),
            scope: Scope(principal: "alice", method: "POST", route: "/payments", key: IdempotencyKey(unchecked: "k")))
    }

    @Test func roundTripKeepsEveryField() throws {
        let record = Self.sample()
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
    }

    @Test func inProgressRecordWithoutResponseRoundTrips() throws {
        var record = Self.sample()
        record.state = .inProgress
        record.response = nil
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
    }

    @Test func flippedByteFailsTheChecksum() {
        var bytes = RecordCodec.encode(Self.sample())
        bytes[40] ^= 0x01
        #expect(throws: RecordCodec.DecodeError.checksumMismatch) { try RecordCodec.decode(bytes) }
    }

    @Test func truncatedRecordIsRejected() {
        let bytes = RecordCodec.encode(Self.sample())
        #expect(throws: RecordCodec.DecodeError.self) { try RecordCodec.decode(Array(bytes.prefix(bytes.count - 9))) }
    }

    @Test func foreignBytesAreNotARecord() {
        #expect(throws: RecordCodec.DecodeError.notARecord) { try RecordCodec.decode(Array("hello world".utf8)) }
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}
