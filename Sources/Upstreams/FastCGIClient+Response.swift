import HTTP

extension FastCGIClient.Answer {
    /// Headers that describe one connection, not the response: nginx sets its own framing.
    static let notReturned: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "content-length", "status",
    ]

    /// The CGI output as an HTTP response (RFC 3875 §6): header lines, a blank line, the body.
    /// `Status: 404 Not Found` sets the status; without it the status is 200, or 302 when the
    /// script sent `Location` (as nginx and Apache do). Lines may end in CRLF or LF.
    public func response() throws(FastCGIClientError) -> Response {
        guard let (headEnd, bodyStart) = Self.endOfHeaders(stdout) else {
            throw .badResponse("no blank line after the CGI headers in \(stdout.count) bytes of output")
        }
        var response = Response(status: .ok)
        var status: Status?
        for var line in stdout[..<headEnd].split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.last == 0x0D { line = line.dropLast() }
            guard let colon = line.firstIndex(of: 0x3A) else {
                throw .badResponse("a CGI header line without a colon")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .badResponse("an invalid CGI header name")
            }
            let valueBytes = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
            // A CR or NUL left inside a value would let the application split the response.
            guard !valueBytes.contains(where: { $0 == 0x0D || $0 == 0 }) else {
                throw .badResponse("a control character in the value of \(name)")
            }
            var value = String(decoding: valueBytes, as: UTF8.self)
            while value.last == " " || value.last == "\t" { value.removeLast() }
            if Headers.same(name, "Status") {
                guard let code = Int(value.prefix { $0 != " " }), (100...599).contains(code) else {
                    throw .badResponse("an invalid Status header")
                }
                status = Status(code)
            }
            if !Self.notReturned.contains(name.lowercased()) { response.headers.add(name, value) }
        }
        response.status = status ?? (response.headers.contains("Location") ? Status(302) : .ok)
        response.body = Array(stdout[bodyStart...])
        return response
    }

    /// Where the headers end and the body starts: the first empty line, CRLF or LF style.
    static func endOfHeaders(_ bytes: [UInt8]) -> (Int, Int)? {
        var i = 0
        while let lf = bytes[i...].firstIndex(of: 0x0A) {
            let next = lf + 1
            if next < bytes.count && bytes[next] == 0x0A { return (lf, next + 1) }
            if next + 1 < bytes.count && bytes[next] == 0x0D && bytes[next + 1] == 0x0A { return (lf, next + 2) }
            i = next
        }
        return nil
    }

    /// RFC 9110 token characters, the only ones a header name may have.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
