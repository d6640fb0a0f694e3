import Testing

@testable import HTTP

@Suite struct HeadersTests {
    @Test func lookupIgnoresCaseAndReturnsFirstValue() {
        let h = Headers([("Content-Type", "application/json"), ("X-Tag", "one"), ("x-tag", "two")])
        #expect(h["content-type"] == "application/json")
        #expect(h["CONTENT-TYPE"] == "application/json")
        #expect(h["X-TAG"] == "one")
        #expect(h["Content-Length"] == nil)
        #expect(h.contains("x-TAG"))
        #expect(!h.contains("Etag"))
    }

    @Test func setReplacesEveryCaseVariantWithOneFieldAndKeepsOthersInOrder() {
        var h = Headers([("A", "1"), ("x-id", "old"), ("B", "2"), ("X-ID", "older"), ("C", "3")])
        h.set("X-Id", "new")
        #expect(h.fields.map(\.name) == ["A", "B", "C", "X-Id"])
        #expect(h.fields.map(\.value) == ["1", "2", "3", "new"])
        #expect(h["x-id"] == "new")
    }

    @Test func setOnAbsentNameAppendsWithGivenSpelling() {
        var h = Headers([("A", "1")])
        h.set("retry-AFTER", "5")
        #expect(h.fields.map(\.name) == ["A", "retry-AFTER"])
    }

    @Test func addKeepsEarlierFieldsOfTheSameName() {
        var h = Headers()
        h.add("Set-Cookie", "a=1")
        h.add("set-cookie", "b=2")
        #expect(h.fields.map(\.value) == ["a=1", "b=2"])
        #expect(h.fields.map(\.name) == ["Set-Cookie", "set-cookie"])
        #expect(h["SET-COOKIE"] == "a=1")
    }

    @Test func removeDropsEveryCaseVariantAndKeepsTheRestInOrder() {
        var h = Headers([("A", "1"), ("Vary", "x"), ("B", "2"), ("VARY", "y"), ("C", "3")])
        h.remove("vary")
        #expect(h.fields.map(\.name) == ["A", "B", "C"])
        #expect(h["Vary"] == nil)
        h.remove("not-there")
        #expect(h.fields.count == 3)
    }

    @Test func iterationFollowsFieldOrderAndSpelling() {
        let h = Headers([("b-Header", "2"), ("A-header", "1")])
        #expect(h.map(\.name) == ["b-Header", "A-header"])
    }

    @Test func sameComparesOnlyAsciiLettersCaseInsensitively() {
        #expect(Headers.same("ETag", "etag"))
        #expect(Headers.same("X-Request-ID", "x-request-id"))
        #expect(!Headers.same("X-A", "X_A"))
        #expect(!Headers.same("a", "ab"))
        #expect(!Headers.same("@", "`"))  // 0x40 vs 0x60: differ by 32 but are not letters
        #expect(!Headers.same("[", "{"))
        #expect(Headers.same("", ""))
    }

    @Test func equalityIsOrderAndSpellingSensitive() {
        #expect(Headers([("A", "1"), ("B", "2")]) == Headers([("A", "1"), ("B", "2")]))
        #expect(Headers([("A", "1"), ("B", "2")]) != Headers([("B", "2"), ("A", "1")]))
        #expect(Headers([("A", "1")]) != Headers([("a", "1")]))
        #expect(Headers([("A", "1")]) != Headers([("A", "1"), ("A", "1")]))
    }
}
