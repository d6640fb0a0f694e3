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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + response.body.count)
        bytes += "Status: ".utf8
        appendDecimal(Int(response.status.rawValue), to: &bytes)
        bytes.append(0x20)
        bytes += response.status.reasonPhrase.utf8
        crlf(&bytes)
        for (name, value) in response.headers
        where !Headers.same(name, "Content-Length") && !Headers.same(name, "Status") {
            bytes += name.utf8
            bytes.append(UInt8(ascii: ":"))
            bytes.append(0x20)
            // A CR or LF in a value would let a handler inject headers: they become spaces.
            let start = bytes.count
            bytes += value.utf8
            for i in start..<bytes.count where bytes[i] == 0x0D || bytes[i] == 0x0A { bytes[i] = 0x20 }
            crlf(&bytes)
        }
        bytes += "Content-Length: ".utf8
        appendDecimal(bodyLength, to: &bytes)
        crlf(&bytes)
        crlf(&bytes)
        bytes += response.body
        return bytes
    }

    @inline(__always) private static func crlf(_ out: inout [UInt8]) {
        out.append(0x0D)
        out.append(0x0A)
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
