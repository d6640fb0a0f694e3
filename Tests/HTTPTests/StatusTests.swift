import Testing

@testable import HTTP

@Suite struct StatusTests {
    @Test(arguments: [
        (200, "OK"), (201, "Created"), (204, "No Content"), (400, "Bad Request"), (404, "Not Found"),
        (405, "Method Not Allowed"), (409, "Conflict"), (413, "Content Too Large"), (422, "Unprocessable Content"),
        (428, "Precondition Required"), (429, "Too Many Requests"), (500, "Internal Server Error"),
        (503, "Service Unavailable"),
    ])
    func knownCodeHasItsStandardReasonPhrase(_ code: Int, _ phrase: String) {
        #expect(Status(code).reasonPhrase == phrase)
    }

    @Test func unknownCodeGetsGenericPhrase() {
        #expect(Status(299).reasonPhrase == "Status 299")
    }

    @Test func descriptionIsCodeAndPhrase() {
        #expect(Status.notFound.description == "404 Not Found")
        #expect(Status.created.description == "201 Created")
    }

    @Test func namedStatusesHaveTheirCodes() {
        #expect(Status.created.rawValue == 201)
        #expect(Status.conflict.rawValue == 409)
        #expect(Status.unprocessableContent.rawValue == 422)
        #expect(Status.serviceUnavailable.rawValue == 503)
    }

    @Test func successIsExactly2xx() {
        #expect(Status(200).isSuccess)
        #expect(Status(299).isSuccess)
        #expect(!Status(199).isSuccess)
        #expect(!Status(300).isSuccess)
        #expect(!Status(404).isSuccess)
    }

    @Test func jsonResponseSetsContentTypeOverCallerValue() {
        let r = Response.json(
            .created, Array("{}".utf8), headers: Headers([("content-type", "text/plain"), ("Location", "/p/1")]))
        #expect(r.status == .created)
        #expect(r.headers.fields.map(\.name) == ["Location", "Content-Type"])
        #expect(r.headers["Content-Type"] == "application/json")
        #expect(r.body == Array("{}".utf8))
    }
}
