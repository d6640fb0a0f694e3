import Testing

@testable import HTTP

@Suite struct RequestTests {
    @Test func targetWithQuerySplitsAtQuestionMark() {
        let r = Request(method: .get, target: "/payments?limit=10&after=pay_1")
        #expect(r.path == "/payments")
        #expect(r.query == "limit=10&after=pay_1")
    }

    @Test func targetWithoutQueryHasEmptyQuery() {
        let r = Request(method: .get, target: "/payments/pay_1")
        #expect(r.path == "/payments/pay_1")
        #expect(r.query == "")
    }

    @Test func targetEndingInQuestionMarkHasEmptyQuery() {
        let r = Request(method: .get, target: "/payments?")
        #expect(r.path == "/payments")
        #expect(r.query == "")
    }

    @Test func onlyTheFirstQuestionMarkSplits() {
        let r = Request(method: .get, target: "/a?b=?c")
        #expect(r.path == "/a")
        #expect(r.query == "b=?c")
    }

    @Test func pathStaysPercentEncoded() {
        let r = Request(method: .get, target: "/payments/pay%201?x=%3F")
        #expect(r.path == "/payments/pay%201")
        #expect(r.query == "x=%3F")
    }

    @Test func targetInitKeepsMethodHeadersAndBody() {
        let r = Request(method: .post, target: "/p?q", headers: Headers([("Idempotency-Key", "k1")]), body: [1, 2])
        #expect(r.method == .post)
        #expect(r.headers["idempotency-key"] == "k1")
        #expect(r.body == [1, 2])
        #expect(r.parameters.isEmpty)
    }

    @Test func methodIsUppercased() {
        #expect(Method(rawValue: "post") == .post)
        #expect(Method(rawValue: "Patch").rawValue == "PATCH")
        #expect(Method.get.description == "GET")
    }
}
