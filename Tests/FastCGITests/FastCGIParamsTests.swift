import Glibc
import HTTP
import Testing

@testable import FastCGI

@Suite struct FastCGIParamsTests {
    /// The same bytes libfcgi hands a worker: a NULL-terminated array of "NAME=value" strings.
    func parse(_ entries: [String]) -> FastCGIParams {
        let pointers = entries.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        var array = pointers
        return array.withUnsafeMutableBufferPointer { FastCGIParams(envp: $0.baseAddress) }
    }

    @Test func nginxParamsBecomeMethodTargetHeadersAndParameters() {
        let params = parse([
            "REQUEST_METHOD=POST", "REQUEST_URI=/payments?a=1&b=2", "QUERY_STRING=a=1&b=2",
            "CONTENT_TYPE=application/json", "CONTENT_LENGTH=35", "HTTP_CONTENT_TYPE=application/json",
            "HTTP_CONTENT_LENGTH=35", "HTTP_IDEMPOTENCY_KEY=k-1", "HTTP_X_REQUEST_ID=abc", "REMOTE_USER=alice",
            "REQUEST_ID=0123abcd", "SCRIPT_FILENAME=/srv/x=y.php",
        ])
        #expect(params.contentLength == 35)
        let request = params.request(body: [])
        #expect(request.method == .post)
        #expect(request.path == "/payments" && request.query == "a=1&b=2")
        #expect(
            request.headers.fields.map { "\($0.name): \($0.value)" } == [
                "Content-Type: application/json", "Content-Length: 35", "Idempotency-Key: k-1", "X-Request-Id: abc",
            ])
        #expect(request.parameters["REMOTE_USER"] == "alice")
        #expect(request.parameters["REQUEST_ID"] == "0123abcd")
        #expect(request.parameters["SCRIPT_FILENAME"] == "/srv/x=y.php", "a value may contain '='")
        #expect(request.parameters["HTTP_IDEMPOTENCY_KEY"] == nil, "headers are not parameters")
    }

    @Test func aRepeatedHeaderReadsAsOneCommaJoinedField() {
        let request = parse(["REQUEST_METHOD=POST", "HTTP_IDEMPOTENCY_KEY=a", "HTTP_IDEMPOTENCY_KEY=b"])
            .request(body: [])
        #expect(request.headers.fields.count == 1)
        #expect(request.headers["Idempotency-Key"] == "a, b")
    }

    @Test func headerNamesAreSpelledAsOnTheWire() {
        for (param, name) in [
            ("IDEMPOTENCY_KEY", "Idempotency-Key"), ("X_FORWARDED_FOR", "X-Forwarded-For"), ("A", "A"),
        ] {
            let bytes = Array(param.utf8)
            #expect(bytes.withUnsafeBytes { FastCGIParams.headerName(fromParam: $0) } == name)
        }
    }

    @Test func withoutRequestURITheTargetFallsBackAndBadLengthsReadAsZero() {
        let params = parse(["REQUEST_METHOD=GET", "SCRIPT_NAME=/status", "QUERY_STRING=x=1", "CONTENT_LENGTH=-5"])
        #expect(params.contentLength == 0)
        let request = params.request(body: [])
        #expect(request.path == "/status" && request.query == "x=1")
        #expect(parse(["CONTENT_LENGTH=abc"]).contentLength == 0)
        #expect(parse([]).request(body: []).method == .get)
    }

    @Test func aCGIEnvironmentParsesTheSameWay() {
        let env = [
            "REQUEST_METHOD": "PUT", "REQUEST_URI": "/a/b", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3",
            "HTTP_IDEMPOTENCY_KEY": "k",
        ]
        let params = FastCGIParams(environment: env)
        #expect(params.contentLength == 3)
        let request = params.request(body: Array("abc".utf8))
        #expect(request.method == .put && request.path == "/a/b")
        #expect(request.headers["Content-Type"] == "text/plain" && request.headers["Idempotency-Key"] == "k")
    }

    @Test func responseHeadersCannotInjectLinesAndCarryTheBodyLength() {
        var response = Response(status: .created, body: Array("{}".utf8))
        response.headers.set("X-Evil", "a\r\nSet-Cookie: x=1")
        response.headers.set("Content-Length", "999")
        let text = String(decoding: FastCGIResponseWriter.encode(response, bodyLength: 2), as: UTF8.self)
        #expect(text == "Status: 201 Created\r\nX-Evil: a  Set-Cookie: x=1\r\nContent-Length: 2\r\n\r\n{}")
    }
}
