import Configuration
import HTTP
import JSON

/// `staticResponse`: answers every request with the configured status, headers and body.
/// For health checks, mocks, and trying out the policies without business code.
struct StaticResponseHandler: Handler {
    let response: Response

    func handle(_ request: Request, context: RequestContext) throws -> Response { response }

    /// `{"status": 200, "headers": {"Name": "value"}, "body": "text"}`, every member optional.
    static func factory(_ options: ConfigValue) throws -> HandlerRegistry.Builder {
        var response = Response(status: .ok)
        for (name, member) in try options.members(allowed: ["status", "headers", "body"]) {
            switch name {
            case "status": response.status = Status(Int(try member.integer(in: 200...599)))
            case "headers":
                for (header, value) in try member.members() {
                    guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }) else {
                        throw value.error("\"\(header)\" is not an HTTP header name")
                    }
                    let text = try value.string()
                    guard !text.contains("\r"), !text.contains("\n") else {
                        throw value.error("a header value cannot contain CR or LF")
                    }
                    response.headers.add(header, text)
                }
            case "body": response.body = Array(try member.string().utf8)
            default: break
            }
        }
        let fixed = response
        return { _ in StaticResponseHandler(response: fixed) }
    }
}
