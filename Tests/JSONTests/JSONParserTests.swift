import Testing

@testable import JSON

@Suite struct JSONParserTests {
    @Test func nestedDocumentParsesToMatchingValue() throws {
        let value = try JSONParser.parse(#" { "a" : [1, "two", true, false, null, {}], "b": {"c": []} } "#)
        #expect(
            value
                == .object([
                    ("a", .array([.number("1"), .string("two"), .bool(true), .bool(false), .null, .object([])])),
                    ("b", .object([("c", .array([]))])),
                ]))
    }

    @Test func scalarAtTopLevelParses() throws {
        #expect(try JSONParser.parse("\"x\"") == .string("x"))
        #expect(try JSONParser.parse(" null\n") == .null)
        #expect(try JSONParser.parse("7") == .number("7"))
    }

    @Test(arguments: ["1e2", "-0.5", "0", "-0", "1E+2", "12.50", "0.0e-0", "100000000000000000000000000001"])
    func numberLexemeIsKeptExactlyAsWritten(_ lexeme: String) throws {
        #expect(try JSONParser.parse("[\(lexeme)]") == .array([.number(lexeme)]))
    }

    @Test func integerValueOnlyForPlainIntegers() throws {
        #expect(JSONValue.number("42").integerValue == 42)
        #expect(JSONValue.number("-7").integerValue == -7)
        #expect(JSONValue.number("1e2").integerValue == nil)
        #expect(JSONValue.number("1.0").integerValue == nil)
        #expect(JSONValue.string("42").integerValue == nil)
    }

    @Test func trueAndOneAreDistinctValues() throws {
        let t = try JSONParser.parse("true")
        let one = try JSONParser.parse("1")
        #expect(t == .bool(true))
        #expect(one == .number("1"))
        #expect(t != one)
        #expect(try JSONParser.parse("false") != JSONParser.parse("0"))
    }

    @Test func objectMembersKeepDocumentOrder() throws {
        let value = try JSONParser.parse(#"{"zeta": 1, "alpha": 2, "mid": 3}"#)
        guard case .object(let members) = value else {
            Issue.record("expected an object, got \(value)")
            return
        }
        #expect(members.map(\.0) == ["zeta", "alpha", "mid"])
        #expect(value[member: "alpha"] == .number("2"))
        #expect(value[member: "missing"] == nil)
    }

    @Test func objectEqualityDependsOnMemberOrder() {
        let ab = JSONValue.object([("a", .null), ("b", .null)])
        let ba = JSONValue.object([("b", .null), ("a", .null)])
        #expect(ab != ba)
        #expect(ab == .object([("a", .null), ("b", .null)]))
    }

    @Test func simpleEscapesDecode() throws {
        #expect(try JSONParser.parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#) == .string("a\"b\\c/d\u{08}e\u{0C}f\ng\rh\ti"))
    }

    @Test func unicodeEscapeDecodesBmpCharacters() throws {
        #expect(try JSONParser.parse(#""\u0041\u00e9\u00E9\u20AC""#) == .string("Aéé€"))
        #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test func surrogatePairDecodesToOneScalar() throws {
        let value = try JSONParser.parse(#""\ud83d\ude00""#)
        #expect(value == .string("😀"))
        #expect(value.stringValue?.unicodeScalars.map(\.value) == [0x1F600])
    }

    @Test func rawUtf8InStringIsKept() throws {
        #expect(try JSONParser.parse("\"naïve 😀\"") == .string("naïve 😀"))
    }

    @Test func sixtyFourLevelsOfNestingAreAllowed() throws {
        let text = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        var value = try JSONParser.parse(text)
        var depth = 0
        while case .array(let inner) = value {
            depth += 1
            guard let first = inner.first else { break }
            value = first
        }
        #expect(depth == 64)
    }

    @Test func kindDescriptionNamesEachKind() {
        #expect(JSONValue.null.kindDescription == "null")
        #expect(JSONValue.bool(true).kindDescription == "a boolean")
        #expect(JSONValue.number("1").kindDescription == "a number")
        #expect(JSONValue.string("").kindDescription == "a string")
        #expect(JSONValue.array([]).kindDescription == "an array")
        #expect(JSONValue.object([]).kindDescription == "an object")
    }
}
