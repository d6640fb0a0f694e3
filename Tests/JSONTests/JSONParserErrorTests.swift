import Testing

@testable import JSON

/// Each malformed document must fail with the 1-based line and column of the offending byte.
@Suite struct JSONParserErrorTests {
    private func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONSyntaxError? {
        #expect(throws: JSONSyntaxError.self, sourceLocation: sourceLocation) { try JSONParser.parse(text) }
    }

    private func failure(bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> JSONSyntaxError? {
        #expect(throws: JSONSyntaxError.self, sourceLocation: sourceLocation) { try JSONParser.parse(bytes) }
    }

    @Test func trailingCommaInArrayPointsAtClosingBracket() throws {
        let e = try #require(failure("[1, 2,]"))
        #expect((e.line, e.column) == (1, 7))
        #expect(e.reason.contains("']'"))
    }

    @Test func trailingCommaInObjectOnLaterLinePointsAtBrace() throws {
        let e = try #require(failure("{\n  \"a\": 1,\n}"))
        #expect((e.line, e.column) == (3, 1))
        #expect(e.reason.contains("member name"))
    }

    @Test func unterminatedStringPointsAtEndOfInput() throws {
        let e = try #require(failure(#"{"a": "abc"#))
        #expect((e.line, e.column) == (1, 11))
        #expect(e.reason == "unterminated string")
    }

    @Test func leadingZeroIsRejectedAtTheSecondDigit() throws {
        let e = try #require(failure("[01]"))
        #expect((e.line, e.column) == (1, 3))
        #expect(e.reason.contains("leading zero"))
        let negative = try #require(failure("-007"))
        #expect((negative.line, negative.column) == (1, 3))
    }

    @Test func rawControlCharacterInStringIsRejectedWhereItIs() throws {
        let e = try #require(failure("[\n\"a\tb\"]"))
        #expect((e.line, e.column) == (2, 3))
        #expect(e.reason.contains("control character"))
        let newline = try #require(failure("\"line\nbreak\""))
        #expect((newline.line, newline.column) == (1, 6))
    }

    @Test func trailingGarbageAfterValueIsRejected() throws {
        let e = try #require(failure("{} x"))
        #expect((e.line, e.column) == (1, 4))
        #expect(e.reason.contains("after the JSON value"))
        let second = try #require(failure("1 2"))
        #expect((second.line, second.column) == (1, 3))
    }

    @Test func nestingBeyondSixtyFourLevelsIsRejectedAtTheExtraBracket() throws {
        let e = try #require(failure(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)))
        #expect((e.line, e.column) == (1, 65))
        #expect(e.reason.contains("nesting deeper than 64"))
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        let o = try #require(failure(objects))
        #expect(o.column == 64 * 5 + 1)
    }

    @Test func duplicateMemberIsRejectedAtTheSecondName() throws {
        let e = try #require(failure(#"{"a": 1, "a": 2}"#))
        #expect((e.line, e.column) == (1, 10))
        #expect(e.reason == #"duplicate member "a""#)
    }

    @Test func duplicateMemberSpelledWithEscapeIsStillADuplicate() throws {
        let e = try #require(failure(#"{"a": 1, "\u0061": 2}"#))
        #expect(e.reason == #"duplicate member "a""#)
    }

    @Test func columnCountsCharactersNotBytes() throws {
        let e = try #require(failure("[\"é😀\", ?]"))
        #expect((e.line, e.column) == (1, 8))
    }

    @Test func emptyInputExpectsAValue() throws {
        let e = try #require(failure(""))
        #expect((e.line, e.column) == (1, 1))
        #expect(e.reason.contains("unexpected end of input"))
    }

    @Test func truncatedLiteralIsRejected() throws {
        let e = try #require(failure("[tru]"))
        #expect((e.line, e.column) == (1, 5))
        #expect(e.reason.contains("'true'"))
    }

    @Test(arguments: ["-", "1.", "1e", "1e+", ".5", "+1", "0x10"])
    func malformedNumberIsRejected(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func invalidEscapeIsRejected() throws {
        let e = try #require(failure(#""a\x""#))
        #expect(e.reason.contains("invalid escape"))
        let hex = try #require(failure(#""\u00g0""#))
        #expect(hex.reason.contains("hex digit"))
    }

    @Test func loneLowSurrogateIsRejected() throws {
        let e = try #require(failure(#""\ude00""#))
        #expect(e.reason.contains("unpaired surrogate"))
    }

    @Test func highSurrogateWithoutPartnerIsRejected() throws {
        #expect(try #require(failure(#""\ud83d""#)).reason.contains("unpaired surrogate"))
        #expect(try #require(failure(#""\ud83dx""#)).reason.contains("unpaired surrogate"))
        #expect(try #require(failure(#""\ud83d\u0041""#)).reason.contains("invalid low surrogate"))
    }

    @Test func invalidUtf8InStringIsRejected() throws {
        let e = try #require(failure(bytes: [0x22, 0xFF, 0x22]))
        #expect(e.reason.contains("UTF-8"))
    }

    @Test func unquotedMemberNameIsRejected() throws {
        let e = try #require(failure("{a: 1}"))
        #expect((e.line, e.column) == (1, 2))
    }

    @Test func missingColonIsRejected() throws {
        let e = try #require(failure(#"{"a" 1}"#))
        #expect((e.line, e.column) == (1, 6))
        #expect(e.reason.contains("':'"))
    }

    @Test func descriptionNamesLineColumnAndReason() {
        let e = JSONSyntaxError(line: 3, column: 9, reason: "boom")
        #expect(e.description == "line 3, column 9: boom")
    }
}
