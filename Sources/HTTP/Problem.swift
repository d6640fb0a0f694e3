import JSON

/// An RFC 9457 problem detail, the body of every error Idem itself produces.
public struct Problem: Error, Sendable, Equatable {
    public var status: Status
    /// A stable URI naming the kind of problem; clients switch on it.
    public var type: String
    public var title: String
    public var detail: String?
    /// Extra response headers such as `Retry-After` or `Link`.
    public var headers: Headers
    /// Extension members, in order.
    public var extensions: [(String, JSONValue)]

    public static let typeBase = "https://idem.dev/problems/"

    public init(
        status: Status, type: String, title: String, detail: String? = nil, headers: Headers = Headers(),
        extensions: [(String, JSONValue)] = []
    ) {
        self.status = status
        self.type = (type.hasPrefix("https://") || type.hasPrefix("http://")) ? type : Self.typeBase + type
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extensions = extensions
    }

    public static func == (lhs: Problem, rhs: Problem) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.title == rhs.title && lhs.detail == rhs.detail
            && lhs.headers == rhs.headers && JSONValue.object(lhs.extensions) == JSONValue.object(rhs.extensions)
    }

    /// The problem as a response: `application/problem+json`, never stored by caches.
    public var response: Response {
        var members: [(String, JSONValue)] = [
            ("type", .string(type)), ("title", .string(title)), ("status", .number(String(status.rawValue))),
        ]
        if let detail { members.append(("detail", .string(detail))) }
        members += extensions
        var h = headers
        h.set("Content-Type", "application/problem+json")
        h.set("Cache-Control", "no-store")
        return Response(status: status, headers: h, body: JSONWriter.bytes(.object(members)))
    }
}
