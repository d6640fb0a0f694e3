import HTTP
import Testing

@testable import IdemServer

@Suite struct RouterTests {
    func router() -> Router<String> {
        var r = Router<String>()
        r.add(.post, "/payments", "create")
        r.add(.get, "/payments", "list")
        r.add(.get, "/payments/{id}", "one")
        r.add(.get, "/payments/export", "export")
        return r
    }

    func target(_ m: Router<String>.Match) -> String? {
        if case .found(let t, _, _) = m { return t }
        return nil
    }

    @Test func literalRoutesWinOverParameterRoutesWhateverTheOrder() {
        #expect(target(router().match(.get, path: "/payments/export")) == "export")
        #expect(target(router().match(.get, path: "/payments/pay_1")) == "one")
        #expect(target(router().match(.post, path: "/payments/")) == "create", "a trailing slash is the same route")
    }

    @Test func parametersAreBoundPercentDecoded() {
        guard case .found(_, let template, let parameters) = router().match(.get, path: "/payments/a%20b%2Fc") else {
            Issue.record("no match")
            return
        }
        #expect(template == "/payments/{id}")
        #expect(parameters == ["id": "a b/c"])
        // An escaped literal matches its literal; a broken escape matches nothing.
        #expect(target(router().match(.get, path: "/payments/%65xport")) == "export")
        guard case .notFound = router().match(.get, path: "/payments/%zz") else {
            Issue.record("a broken escape matched")
            return
        }
    }

    @Test func wrongMethodListsTheAllowedOnesAndHeadUsesGet() {
        guard case .methodNotAllowed(let allowed) = router().match(.delete, path: "/payments") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed.map(\.rawValue) == ["POST", "GET"])
        #expect(target(router().match(.head, path: "/payments/x")) == "one")
        guard case .notFound = router().match(.get, path: "/refunds") else {
            Issue.record("expected 404")
            return
        }
        guard case .notFound = router().match(.get, path: "/payments//") else {
            Issue.record("an empty id must not match")
            return
        }
    }
}
