import Testing

@testable import JSON

@Suite struct JSONWriterTests {
    @Test func writesCompactlyInMemberOrder() {
        let value = JSONValue.object([
            ("z", .number("1e2")), ("a", .array([.bool(true), .null, .number("-0.5")])), ("m", .object([])),
        ])
        #expect(JSONWriter.string(value) == #"{"z":1e2,"a":[true,null,-0.5],"m":{}}"#)
    }

    @Test func numberLexemeIsWrittenVerbatim() {
        #expect(JSONWriter.string(.number("10.50")) == "10.50")
        #expect(JSONWriter.string(.bool(true)) != JSONWriter.string(.number("1")))
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(JSONWriter.string(.string(#"say "hi" \ bye"#)) == #""say \"hi\" \\ bye""#)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONWriter.string(.string("a\nb\rc\td")) == #""a\nb\rc\td""#)
        #expect(JSONWriter.string(.string("\u{0}\u{1}\u{8}\u{1F}")) == #""\u0000\u0001\u0008\u001f""#)
    }

    @Test func everyControlCharacterOutputHasNoRawControlByte() {
        let all = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let out = JSONWriter.bytes(.string(all))
        #expect(!out.contains { $0 < 0x20 })
    }

    @Test func nonAsciiIsWrittenRaw() {
        #expect(JSONWriter.string(.string("é😀/")) == "\"é😀/\"")
    }

    @Test func memberNamesAreEscapedToo() {
        #expect(JSONWriter.string(.object([("a\"b\n", .null)])) == #"{"a\"b\n":null}"#)
    }

    @Test func writtenDocumentParsesBackToTheSameValue() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let value = JSONValue.object([
            ("text", .string(controls + "\"\\/é😀\u{7F}\u{2028}")),
            (
                "numbers",
                .array([.number("0"), .number("-0.5"), .number("1E+2"), .number("123456789012345678901234567890")])
            ),
            ("flags", .array([.bool(true), .bool(false), .null])),
            ("nested", .object([("b", .object([("a", .array([]))])), ("a", .string(""))])),
        ])
        #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value)
    }

    @Test func parsedDocumentWritesBackByteStable() throws {
        let text = #"{"b":[1e2,-0.5,true,1],"a":"x\"y","c":null}"#
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    @Test func bytesMatchString() {
        let value = JSONValue.array([.string("é")])
        #expect(JSONWriter.bytes(value) == Array(JSONWriter.string(value).utf8))
    }
}
