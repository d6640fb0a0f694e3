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
        bytes += [0x0D, 0x0A]
        for (name, value) in response.headers
        where !Headers.same(name, "Content-Length") && !Headers.same(name, "Status") {
            bytes += name.utf8
            bytes += [UInt8(ascii: ":"), 0x20]
            // A CR or LF in a value would let a handler inject headers: they become spaces.
            for byte in value.utf8 { bytes.append(byte == 0x0D || byte == 0x0A ? 0x20 : byte) }
            bytes += [0x0D, 0x0A]
        }
        bytes += "Content-Length: ".utf8
        appendDecimal(bodyLength, to: &bytes)
        bytes += [0x0D, 0x0A, 0x0D, 0x0A]
        bytes += response.body
        return bytes
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
