import Foundation
import HTTP

/// The CGI/1.1 variables of one FastCGI request (`FCGX_Request.envp`), turned into a `Request`.
struct FastCGIParams {
    private(set) var values: [String: String] = [:]

    /// From a classic CGI program's environment.
    init(environment: [String: String]) { values = environment }

    init(envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard var cursor = envp else { return }
        while let entry = cursor.pointee {
            // "NAME=value"; libfcgi guarantees the '=' but a value may itself contain '='.
            let length = strlen(entry)
            let bytes = UnsafeRawBufferPointer(start: entry, count: length)
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<eq], as: UTF8.self)
                let value = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
                // nginx before 1.23 sends a repeated header as repeated params; combine them
                // as HTTP does (RFC 9110 §5.3), so a repeated Idempotency-Key reads as a list.
                if let earlier = values[name], name.hasPrefix("HTTP_") {
                    values[name] = earlier + ", " + value
                } else {
                    values[name] = value
                }
            }
            cursor += 1
        }
    }

    var contentLength: Int { values["CONTENT_LENGTH"].flatMap { Int($0) }.map { max(0, $0) } ?? 0 }

    func request(body: [UInt8]) -> Request {
        var headers = Headers()
        var parameters: [String: String] = [:]
        for (name, value) in values {
            if name.hasPrefix("HTTP_") {
                headers.add(Self.headerName(fromParam: name.dropFirst(5)), value)
            } else if name == "CONTENT_TYPE" {
                if !value.isEmpty { headers.add("Content-Type", value) }
            } else if name == "CONTENT_LENGTH" {
                if !value.isEmpty { headers.add("Content-Length", value) }
            } else {
                parameters[name] = value
            }
        }
        // REQUEST_URI is the target as the client sent it; nginx always passes it.
        let target = values["REQUEST_URI"] ?? values["DOCUMENT_URI"] ?? values["SCRIPT_NAME"] ?? "/"
        var request = Request(
            method: Method(rawValue: values["REQUEST_METHOD"] ?? "GET"), target: target, headers: headers, body: body)
        if request.query.isEmpty, let q = values["QUERY_STRING"] { request.query = q }
        request.parameters = parameters
        return request
    }

    /// `IDEMPOTENCY_KEY` → `Idempotency-Key`.
    static func headerName(fromParam param: Substring) -> String {
        var out = ""
        var upper = true
        for c in param {
            if c == "_" {
                out.append("-")
                upper = true
            } else {
                out += upper ? String(c).uppercased() : String(c).lowercased()
                upper = false
            }
        }
        return out
    }
}
