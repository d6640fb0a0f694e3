import HTTP

extension FastCGIParams {
    /// Answers one request whose body `read` delivers, the same way for FastCGI and CGI:
    /// over `maxBodyBytes` → 413 (the body is drained with `discard`); a body shorter than
    /// `CONTENT_LENGTH` → 400, never a handler run on half a body; otherwise the responder's
    /// answer. Returns the response to write and its Content-Length (a HEAD answer keeps the
    /// length of the body it does not send).
    func respond(
        maxBodyBytes: Int, read: (Int) -> [UInt8], discard: (Int) -> Void, responder: (Request) -> Response
    ) -> (Response, bodyLength: Int) {
        let length = contentLength
        if length > maxBodyBytes {
            discard(length)
            let problem = Problem(
                status: .contentTooLarge, type: "body-too-large", title: "Request body too large",
                detail: "The body is \(length) bytes; the limit is \(maxBodyBytes).")
            return (problem.response, problem.response.body.count)
        }
        let body = read(length)
        guard body.count == length else {
            let problem = Problem(
                status: .badRequest, type: "incomplete-body", title: "Incomplete request body",
                detail: "Received \(body.count) of \(length) bytes.")
            return (problem.response, problem.response.body.count)
        }
        let request = request(body: body)
        let response = responder(request)
        guard request.method == .head else { return (response, response.body.count) }
        return (Response(status: response.status, headers: response.headers), response.body.count)
    }
}
