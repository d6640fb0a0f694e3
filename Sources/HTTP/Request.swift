/// One HTTP request as the responder received it from the web server.
public struct Request: Sendable {
    public var method: Method
    /// The path as sent, still percent-encoded, without the query.
    public var path: String
    /// The raw query string without the leading '?', empty when absent.
    public var query: String
    public var headers: Headers
    public var body: [UInt8]
    /// Server-provided variables that are not headers (REMOTE_USER, REQUEST_ID, ...).
    public var parameters: Parameters

    public init(
        method: Method, path: String, query: String = "", headers: Headers = Headers(), body: [UInt8] = [],
        parameters: Parameters = [:]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.parameters = parameters
    }

    /// Splits a request target such as `/payments?x=1` into path and query.
    public init(method: Method, target: String, headers: Headers = Headers(), body: [UInt8] = []) {
        if let q = target.firstIndex(of: "?") {
            self.init(
                method: method, path: String(target[..<q]), query: String(target[target.index(after: q)...]),
                headers: headers, body: body)
        } else {
            self.init(method: method, path: target, headers: headers, body: body)
        }
    }
}
