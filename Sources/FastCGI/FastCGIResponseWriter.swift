import CFastCGI
import HTTP

/// Writes a response as CGI output on FCGI_STDOUT: a `Status:` line, headers, a blank line, body.
enum FastCGIResponseWriter {
    static func write(_ response: Response, bodyLength: Int, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        let bytes = encode(response, bodyLength: bodyLength)
        bytes.withUnsafeBytes { raw in
            _ = FCGX_PutStr(raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count), stream)
        }
    }

    /// The CGI output of `response`: Status line, headers, Content-Length, blank line, body.
    static func encode(_ response: Response, bodyLength: Int) -> [UInt8] {
        var head = "Status: \(response.status.rawValue) \(response.status.reasonPhrase)\r\n"
        for (name, value) in response.headers
        where !Headers.same(name, "Content-Length") && !Headers.same(name, "Status") {
            head += name
            head += ": "
            head += sanitize(value)
            head += "\r\n"
        }
        head += "Content-Length: \(bodyLength)\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes += response.body
        return bytes
    }

    /// A CR or LF in a value would let a handler inject headers: replace them with spaces.
    private static func sanitize(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return value }
        return String(value.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}
