import HTTP
import Testing
import Upstreams

@Suite struct RewritePatternTests {
    let request = Request(method: .post, target: "/v2/items/a%20b?src=mobile+app&x=1")

    @Test func pathnameAndSearchCopyTheRequest() throws {
        let p = try RewritePattern("http://127.0.0.1:8080${pathname}${search}")
        #expect(p.url(for: request, parameters: [:]) == "http://127.0.0.1:8080/v2/items/a%20b?src=mobile+app&x=1")
        #expect(p.url(for: Request(method: .get, target: "/x"), parameters: [:]) == "http://127.0.0.1:8080/x")
    }

    @Test func parametersAndQueryValuesArePercentEncoded() throws {
        let p = try RewritePattern("https://orders.internal/items/${params.id}?source=${query.src}&m=${method}")
        #expect(
            p.url(for: request, parameters: ["id": "a b/c"])
                == "https://orders.internal/items/a%20b%2Fc?source=mobile%20app&m=POST")
    }

    @Test func missingValuesBecomeEmpty() throws {
        let p = try RewritePattern("http://h/${params.nope}?q=${query.nope}")
        #expect(p.url(for: request, parameters: [:]) == "http://h/?q=")
    }

    @Test(arguments: [
        ("http://h/${unknown}", "unknown placeholder"),
        ("http://h/${pathname", "unterminated"),
        ("ftp://h/x", "must start with http"),
        ("${pathname}", "must start with http"),
    ])
    func invalidPatternsSayWhy(pattern: String, reason: String) {
        #expect {
            try RewritePattern(pattern)
        } throws: { error in
            (error as? RewritePattern.Invalid)?.reason.contains(reason) == true
        }
    }
}
