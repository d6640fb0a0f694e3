import Testing

@testable import HTTP

private enum ClaimToken: ContextKey { typealias Value = String }
private enum Attempt: ContextKey { typealias Value = Int }

@Suite struct RequestContextTests {
    @Test func typedKeysStoreIndependentValues() {
        let c = RequestContext(route: "/payments/{id}", pathParameters: ["id": "pay_1"])
        #expect(c[ClaimToken.self] == nil)
        c[ClaimToken.self] = "t1"
        c[Attempt.self] = 2
        #expect(c[ClaimToken.self] == "t1")
        #expect(c[Attempt.self] == 2)
        #expect(c.pathParameters["id"] == "pay_1")
        #expect(c.outcome == "passthrough")
    }

    @Test func finishersRunOnceInRegistrationOrder() {
        let c = RequestContext(route: "/")
        var seen: [String] = []
        c.onFinish { seen.append("a:\($0.status.rawValue)") }
        c.onFinish { seen.append("b:\($0.status.rawValue)") }
        c.finish(with: Response(status: .created))
        c.finish(with: Response(status: .ok))
        #expect(seen == ["a:201", "b:201"])
    }
}
