import Idempotency
import Testing

@Suite("Idempotency-Key parsing")
struct IdempotencyKeyTests {
    @Test func bareTokenIsTheKey() throws {
        #expect(try IdempotencyKey.parse("payment-abc-123").value == "payment-abc-123")
    }

    @Test func quotedStringAndBareTokenAreTheSameKey() throws {
        #expect(try IdempotencyKey.parse("\"payment-abc-123\"") == IdempotencyKey.parse("payment-abc-123"))
        #expect(try IdempotencyKey.parse(#""a \"b\" c""#).value == #"a "b" c"#)
    }

    @Test func surroundingWhitespaceIsIgnored() throws {
        #expect(try IdempotencyKey.parse("  k1 \t").value == "k1")
    }

    @Test func maximumLengthIsAccepted() throws {
        #expect(try IdempotencyKey.parse(String(repeating: "x", count: 255)).value.count == 255)
    }

    @Test(arguments: [
        ("", IdempotencyKey.Invalid.empty),
        ("   ", .empty),
        ("\"\"", .empty),
        (String(repeating: "x", count: 256), .tooLong),
        ("a, b", .list),
        ("a,b", .list),
        ("\"a\", \"b\"", .list),
        ("has space", .invalidCharacter),
        ("tab\there", .invalidCharacter),
        ("caf\u{e9}", .invalidCharacter),
        ("\"open", .unterminatedQuote),
        ("\"bad\\escape\"", .invalidCharacter),
    ])
    func invalidValuesAreRejected(value: String, reason: IdempotencyKey.Invalid) {
        #expect(throws: reason) { try IdempotencyKey.parse(value) }
    }
}
