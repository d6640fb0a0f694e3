/// An HTTP status code with its standard reason phrase.
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ code: Int) { self.rawValue = code }
    public var description: String { "\(rawValue) \(reasonPhrase)" }

    public var isSuccess: Bool { (200..<300).contains(rawValue) }

    public var reasonPhrase: String {
        switch rawValue {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 425: return "Too Early"
        case 428: return "Precondition Required"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(rawValue)"
        }
    }

    public static let ok = Status(200)
    public static let created = Status(201)
    public static let badRequest = Status(400)
    public static let notFound = Status(404)
    public static let methodNotAllowed = Status(405)
    public static let conflict = Status(409)
    public static let contentTooLarge = Status(413)
    public static let unsupportedMediaType = Status(415)
    public static let unprocessableContent = Status(422)
    public static let internalServerError = Status(500)
    public static let serviceUnavailable = Status(503)
}
