import HTTP

#if canImport(Glibc)
    import Glibc
#endif

/// The CGI/1.1 variables of one request (`FCGX_Request.envp`, or a CGI program's environment),
/// sorted as they are read into what a `Request` needs: headers from `HTTP_*`, the method and
/// target, and the rest as parameters.
///
/// This runs for every request, so it reads each "NAME=value" entry once, straight from libfcgi's
/// bytes: no dictionary of all variables, no per-character strings.
struct FastCGIParams {
    private(set) var method = "GET"
    private(set) var requestURI: String?
    private(set) var documentURI: String?
    private(set) var scriptName: String?
    private(set) var queryString: String?
    private(set) var contentLength = 0
    private(set) var headers = Headers()
    private var raw = Parameters.RawEntries()
    var parameters: Parameters { Parameters(raw: raw) }

    /// From a classic CGI program's environment.
    init(environment: [String: String]) {
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            var name = name
            var value = value
            name.withUTF8 { n in value.withUTF8 { v in add(UnsafeRawBufferPointer(n), UnsafeRawBufferPointer(v)) } }
        }
    }

    init(envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard var cursor = envp else { return }
        while let entry = cursor.pointee {
            // "NAME=value"; libfcgi guarantees the '=' but a value may itself contain '='.
            let bytes = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                add(
                    UnsafeRawBufferPointer(rebasing: bytes[..<eq]), UnsafeRawBufferPointer(rebasing: bytes[(eq + 1)...])
                )
            }
            cursor += 1
        }
    }

    private static let httpPrefix: [UInt8] = Array("HTTP_".utf8)

    private mutating func add(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        if name.count > 5, name.starts(with: Self.httpPrefix) {
            // nginx also passes Content-Type and Content-Length as HTTP_*; CONTENT_TYPE and
            // CONTENT_LENGTH say the same and are what CGI defines, so only they are read.
            if Self.isContentParam(name) { return }
            // nginx before 1.23 sends a repeated header as repeated params; combine them as
            // HTTP does (RFC 9110 §5.3), so a repeated Idempotency-Key reads as a list.
            headers.addCombining(
                Self.headerName(fromParam: UnsafeRawBufferPointer(rebasing: name[5...])),
                String(decoding: value, as: UTF8.self))
            return
        }
        if Self.equals(name, "CONTENT_TYPE") {
            if !value.isEmpty { headers.add("Content-Type", String(decoding: value, as: UTF8.self)) }
            return
        }
        if Self.equals(name, "CONTENT_LENGTH") {
            guard !value.isEmpty else { return }
            let text = String(decoding: value, as: UTF8.self)
            headers.add("Content-Length", text)
            contentLength = Int(text).map { max(0, $0) } ?? 0
            return
        }
        // The rest stay raw bytes until something asks for them; the target's parts are read now.
        raw.append(name: name, value: value)
        if Self.equals(name, "REQUEST_METHOD") {
            method = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "REQUEST_URI") {
            requestURI = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "QUERY_STRING") {
            queryString = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "DOCUMENT_URI") {
            documentURI = String(decoding: value, as: UTF8.self)
        } else if Self.equals(name, "SCRIPT_NAME") {
            scriptName = String(decoding: value, as: UTF8.self)
        }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount
            && memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0
    }

    private static let contentParams: [[UInt8]] = [Array("HTTP_CONTENT_TYPE".utf8), Array("HTTP_CONTENT_LENGTH".utf8)]

    private static func isContentParam(_ name: UnsafeRawBufferPointer) -> Bool {
        contentParams.contains { $0.count == name.count && name.elementsEqual($0) }
    }

    func request(body: [UInt8]) -> Request {
        // REQUEST_URI is the target as the client sent it; nginx always passes it.
        let target = requestURI ?? documentURI ?? scriptName ?? "/"
        var request = Request(method: Method(rawValue: method), target: target, headers: headers, body: body)
        if request.query.isEmpty, let queryString { request.query = queryString }
        request.parameters = parameters
        return request
    }

    /// `IDEMPOTENCY_KEY` → `Idempotency-Key`.
    static func headerName(fromParam param: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: param.count) { out in
            var upper = true
            for (i, c) in param.enumerated() {
                if c == UInt8(ascii: "_") {
                    out[i] = UInt8(ascii: "-")
                    upper = true
                } else {
                    let isUpper = c >= 65 && c <= 90
                    let isLower = c >= 97 && c <= 122
                    out[i] = upper ? (isLower ? c - 32 : c) : (isUpper ? c + 32 : c)
                    upper = false
                }
            }
            return param.count
        }
    }
}
