/// One HTTP response: status, ordered headers and body bytes.
public struct Response: Sendable, Equatable {
    public var status: Status
    public var headers: Headers
    public var body: [UInt8]

    public init(status: Status, headers: Headers = Headers(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with `Content-Type: application/json`.
    public static func json(_ status: Status, _ body: [UInt8], headers: Headers = Headers()) -> Response {
        var h = headers
        h.set("Content-Type", "application/json")
        return Response(status: status, headers: h, body: body)
    }
}
