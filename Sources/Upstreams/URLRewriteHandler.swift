import CCurl
import Configuration
import Foundation
import HTTP

/// `urlRewriteHandler`, the seed's handler: forwards the request to an HTTP upstream at the
/// URL `rewritePattern` builds, and answers with the upstream's status, headers and body.
/// The idempotency policies apply unchanged: the key is forwarded too, so the backend may use it.
public struct URLRewriteHandler: Handler {
    public let pattern: RewritePattern
    public let connectTimeoutMs: Int
    public let timeoutMs: Int
    public let maxResponseBytes: Int
    let pool = CurlPool()

    /// Headers that belong to one hop (RFC 9110 §7.6.1) or that libcurl sets itself.
    static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding",
        "upgrade", "host", "content-length", "expect",
    ]
    static let notReturned: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "content-length",
    ]

    /// Options: `rewritePattern` (required), `connectTimeoutMs` (2000), `timeoutMs` (30000),
    /// `maxResponseBytes` (8 MiB).
    public static func make(options: ConfigValue) throws -> URLRewriteHandler {
        _ = try options.members(allowed: ["rewritePattern", "connectTimeoutMs", "timeoutMs", "maxResponseBytes"])
        let patternValue = try options.requiredMember("rewritePattern")
        let pattern: RewritePattern
        do {
            pattern = try RewritePattern(try patternValue.string())
        } catch let invalid as RewritePattern.Invalid {
            throw patternValue.error(invalid.reason)
        }
        return URLRewriteHandler(
            pattern: pattern,
            connectTimeoutMs: Int(try options.member("connectTimeoutMs")?.integer(in: 1...600_000) ?? 2000),
            timeoutMs: Int(try options.member("timeoutMs")?.integer(in: 1...3_600_000) ?? 30_000),
            maxResponseBytes: Int(try options.member("maxResponseBytes")?.integer(in: 1...(1 << 30)) ?? (8 << 20)))
    }

    public func handle(_ request: Request, context: RequestContext) throws -> Response {
        let url = pattern.url(for: request, parameters: context.pathParameters)
        let sink = CurlSink(maxBytes: maxResponseBytes)
        let code: CURLcode = pool.withHandle { handle in
            configure(handle, url: url, request: request, sink: sink)
            var list: UnsafeMutablePointer<curl_slist>?
            for line in headerLines(for: request) { list = curl_slist_append(list, line) }
            defer { curl_slist_free_all(list) }
            _ = idem_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, list)
            let code = request.body.withUnsafeBytes { body -> CURLcode in
                if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method.rawValue) {
                    _ = idem_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    _ = idem_curl_setopt_ptr(
                        handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                }
                return curl_easy_perform(handle)
            }
            var status = 0
            _ = idem_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            sink.result.status = status
            return code
        }
        guard code == CURLE_OK else { throw problem(for: code, url: url, tooLarge: sink.result.tooLarge) }
        var headers = Headers()
        for (name, value) in sink.result.headers where !Self.notReturned.contains(name.lowercased()) {
            headers.add(name, value)
        }
        return Response(status: Status(sink.result.status), headers: headers, body: sink.result.body)
    }

    private func configure(_ handle: UnsafeMutableRawPointer, url: String, request: Request, sink: CurlSink) {
        _ = idem_curl_setopt_ptr(handle, CURLOPT_URL, url)
        _ = idem_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        if request.method == .head { _ = idem_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
        // Worker threads: no SIGALRM-based DNS timeouts.
        _ = idem_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = idem_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs)
        _ = idem_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        _ = idem_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = idem_curl_setopt_ptr(handle, CURLOPT_ACCEPT_ENCODING, nil)
        let user = Unmanaged.passUnretained(sink).toOpaque()
        _ = idem_curl_setopt_write(handle, curlWriteBody)
        _ = idem_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, user)
        _ = idem_curl_setopt_header(handle, curlWriteHeader)
        _ = idem_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, user)
    }

    /// The request's end-to-end headers, plus the X-Forwarded-* a proxy adds. `Expect:`
    /// (empty) stops libcurl from waiting for `100 Continue` on larger bodies.
    func headerLines(for request: Request) -> [String] {
        var lines: [String] = []
        for (name, value) in request.headers where !Self.notForwarded.contains(name.lowercased()) {
            lines.append("\(name): \(value)")
        }
        if let client = request.parameters["REMOTE_ADDR"] {
            let prior = request.headers["X-Forwarded-For"]
            lines.removeAll { $0.lowercased().hasPrefix("x-forwarded-for:") }
            lines.append("X-Forwarded-For: " + (prior.map { "\($0), \(client)" } ?? client))
        }
        if let host = request.headers["Host"] { lines.append("X-Forwarded-Host: \(host)") }
        lines.append(
            "X-Forwarded-Proto: " + (request.parameters["HTTPS"].map { $0.isEmpty ? "http" : "https" } ?? "http"))
        lines.append("Expect:")
        return lines
    }

    private func problem(for code: CURLcode, url: String, tooLarge: Bool) -> Problem {
        let upstream = Self.origin(of: url)
        if tooLarge {
            return UpstreamFailure.badResponse.problem(
                upstream: upstream, reason: "more than \(maxResponseBytes) bytes")
        }
        let reason = String(cString: curl_easy_strerror(code))
        let failure: UpstreamFailure = code == CURLE_OPERATION_TIMEDOUT ? .timeout : .unavailable
        return failure.problem(upstream: upstream, reason: reason)
    }

    /// `scheme://host:port` only: the path may carry data the client should not see echoed.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        return String(url[..<hostEnd])
    }
}
