import Configuration
import HTTP

/// `fastcgiHandler`: forwards the request to a FastCGI application server such as PHP-FPM,
/// with the CGI params nginx gave Idem, and answers with the application's status, headers
/// and body, so the idempotency policies apply to an existing PHP app unchanged.
public struct FastCGIUpstreamHandler: Handler {
    public let client: FastCGIClient
    /// Overrides the request's `SCRIPT_FILENAME` (nginx's `fastcgi_params` does not set it).
    public let scriptFilename: String?
    /// Set last, so they override what nginx sent and what Idem computed.
    public let extraParams: [(String, String)]
    /// Receives the application's STDERR output (PHP warnings and fatal errors), line by line.
    public let log: @Sendable (String) -> Void

    public init(
        client: FastCGIClient, scriptFilename: String? = nil, extraParams: [(String, String)] = [],
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.client = client
        self.scriptFilename = scriptFilename
        self.extraParams = extraParams
        self.log = log
    }

    /// Options: `address` (required), `scriptFilename`, `connectTimeoutMs` (2000), `timeoutMs`
    /// (30000), `maxResponseBytes` (8 MiB), `params` (an object of string values).
    public static func make(options: ConfigValue, log: @escaping @Sendable (String) -> Void) throws
        -> FastCGIUpstreamHandler
    {
        _ = try options.members(allowed: [
            "address", "scriptFilename", "connectTimeoutMs", "timeoutMs", "maxResponseBytes", "params",
        ])
        let addressValue = try options.requiredMember("address")
        guard let address = FastCGIAddress(try addressValue.string()) else {
            throw addressValue.error(
                "expected \"unix:/path/to.sock\", \"/path/to.sock\" or an IPv4 \"host:port\" such as \"127.0.0.1:9000\""
            )
        }
        var scriptFilename: String?
        if let value = try options.member("scriptFilename") {
            let path = try value.nonEmptyString()
            guard path.hasPrefix("/") else { throw value.error("expected an absolute path, found \"\(path)\"") }
            scriptFilename = path
        }
        var extra: [(String, String)] = []
        for (name, value) in try options.member("params")?.members() ?? [] {
            guard !name.isEmpty, !name.utf8.contains(0) else { throw value.error("a param name must be non-empty") }
            extra.append((name, try value.string()))
        }
        let client = FastCGIClient(
            address: address,
            connectTimeoutMs: Int(try options.member("connectTimeoutMs")?.integer(in: 1...600_000) ?? 2000),
            timeoutMs: Int(try options.member("timeoutMs")?.integer(in: 1...3_600_000) ?? 30_000),
            maxResponseBytes: Int(try options.member("maxResponseBytes")?.integer(in: 1...(1 << 30)) ?? (8 << 20)))
        return FastCGIUpstreamHandler(client: client, scriptFilename: scriptFilename, extraParams: extra, log: log)
    }

    public func handle(_ request: Request, context: RequestContext) throws -> Response {
        let params = try self.params(for: request)
        let answer: FastCGIClient.Answer
        do {
            answer = try client.send(params: params, body: request.body)
        } catch {
            log("\(client.address): \(error.message)")
            throw error.problem(upstream: client.address)
        }
        if !answer.stderr.isEmpty {
            let text = String(decoding: answer.stderr, as: UTF8.self)
            for line in text.split(whereSeparator: \.isNewline) { log("\(client.address) stderr: \(line)") }
        }
        do {
            return try answer.response()
        } catch {
            log("\(client.address): \(error.message)")
            throw error.problem(upstream: client.address)
        }
    }

    /// The CGI/1.1 environment: nginx's params, the headers as `HTTP_*`, what Idem knows
    /// better than nginx (the body's real length, the target), then the configured params.
    func params(for request: Request) throws -> [(String, String)] {
        var params = request.parameters
        for (name, value) in request.headers {
            if Headers.same(name, "Content-Type") || Headers.same(name, "Content-Length") { continue }
            // httpoxy: a client's `Proxy` header must never become HTTP_PROXY for the application.
            if Headers.same(name, "Proxy") { continue }
            let param = "HTTP_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
            // Repeated fields become one, as HTTP allows (RFC 9110 §5.3) and nginx does.
            params[param] = params[param].map { "\($0), \(value)" } ?? value
        }
        params["REQUEST_METHOD"] = request.method.rawValue
        params["CONTENT_LENGTH"] = String(request.body.count)
        params["CONTENT_TYPE"] = request.headers["Content-Type"] ?? ""
        params["QUERY_STRING"] = request.query
        params["REQUEST_URI"] = request.query.isEmpty ? request.path : request.path + "?" + request.query
        params["GATEWAY_INTERFACE"] = "CGI/1.1"
        if params["SCRIPT_NAME"] == nil { params["SCRIPT_NAME"] = request.path }
        if params["SERVER_PROTOCOL"] == nil { params["SERVER_PROTOCOL"] = "HTTP/1.1" }
        if let scriptFilename { params["SCRIPT_FILENAME"] = scriptFilename }
        for (name, value) in extraParams { params[name] = value }
        guard params["SCRIPT_FILENAME"]?.isEmpty == false else {
            throw Problem(
                status: .internalServerError, type: "upstream-misconfigured", title: "Upstream misconfigured",
                detail:
                    "No script to run: set the fastcgiHandler option \"scriptFilename\", or have nginx pass SCRIPT_FILENAME."
            )
        }
        return params.sorted { $0.key < $1.key }
    }
}
