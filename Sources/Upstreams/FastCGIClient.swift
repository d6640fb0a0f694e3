import Foundation

/// A FastCGI 1.0 client for one responder request at a time, as nginx's `fastcgi_pass` is to
/// PHP-FPM. Each `send` opens its own connection and the server closes it after END_REQUEST:
/// a local connect costs tens of microseconds next to the application's milliseconds, and no
/// pool means no stale connection to detect. Every step is bounded (connect and exchange
/// timeouts, `maxResponseBytes`), so a broken server costs a 502/504, never a hung worker.
public struct FastCGIClient: Sendable {
    public var address: FastCGIAddress
    public var connectTimeoutMs: Int
    /// Bounds the whole exchange after connecting: sending the request and reading the answer.
    public var timeoutMs: Int
    /// Bounds STDOUT plus STDERR content; a larger answer is an error, not a truncated body.
    public var maxResponseBytes: Int

    public init(
        address: FastCGIAddress, connectTimeoutMs: Int = 2000, timeoutMs: Int = 30_000, maxResponseBytes: Int = 8 << 20
    ) {
        self.address = address
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
    }

    /// What the application wrote: CGI output on STDOUT, diagnostics on STDERR.
    public struct Answer: Sendable, Equatable {
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// The application's exit status from END_REQUEST (PHP-FPM sends 0 even after a fatal error).
        public var appStatus: UInt32
    }

    /// Runs one request in the RESPONDER role: `params` as the CGI environment, `body` on STDIN.
    public func send(params: [(String, String)], body: [UInt8]) throws(FastCGIClientError) -> Answer {
        var socket = try FastCGISocket.connect(to: address, timeoutMs: connectTimeoutMs)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        socket.setTimeout(SO_SNDTIMEO, milliseconds: timeoutMs)
        socket.setTimeout(SO_RCVTIMEO, milliseconds: timeoutMs)
        try socket.sendAll(Self.encodeRequest(params: params, body: body), deadline: deadline)
        return try readAnswer(from: &socket, deadline: deadline)
    }

    /// BEGIN_REQUEST, the PARAMS stream and the STDIN stream, each stream ended by an empty record.
    static func encodeRequest(params: [(String, String)], body: [UInt8]) -> [UInt8] {
        FastCGIRecord.beginRequest() + FastCGIRecord.stream(.params, FastCGIRecord.nameValuePairs(params))
            + FastCGIRecord.stream(.stdin, body)
    }

    private func readAnswer(from socket: inout FastCGISocket, deadline: ContinuousClock.Instant)
        throws(FastCGIClientError) -> Answer
    {
        var answer = Answer(stdout: [], stderr: [], appStatus: 0)
        while true {
            guard let raw = try socket.read(FastCGIRecord.headerLength, what: "a record header", deadline: deadline)
            else { throw .badResponse("the connection closed before END_REQUEST") }
            let header = FastCGIRecord.Header(Array(raw))
            guard header.version == FastCGIRecord.version else {
                throw .badResponse("record version \(header.version), expected 1")
            }
            guard answer.stdout.count + answer.stderr.count + header.contentLength <= maxResponseBytes else {
                throw .badResponse("the answer exceeds maxResponseBytes (\(maxResponseBytes))")
            }
            let length = header.contentLength + header.paddingLength
            let record = try socket.read(length, what: "a record", deadline: deadline) ?? []
            guard record.count == length else { throw .badResponse("the connection closed in the middle of a record") }
            let content = record.prefix(header.contentLength)
            // Management records (id 0) answer queries this client never makes: skip them.
            if header.requestID == 0 { continue }
            guard header.requestID == FastCGIRecord.requestID else {
                throw .badResponse("a record for request \(header.requestID), expected \(FastCGIRecord.requestID)")
            }
            switch header.kind {
            case .stdout: answer.stdout += content
            case .stderr: answer.stderr += content
            case .endRequest:
                guard content.count == 8 else {
                    throw .badResponse("END_REQUEST of \(content.count) bytes, expected 8")
                }
                let b = Array(content)
                answer.appStatus = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
                switch b[4] {
                case 0: return answer
                case 1: throw .badResponse("the server cannot multiplex connections (FCGI_CANT_MPX_CONN)")
                case 2: throw .unavailable("the server is overloaded (FCGI_OVERLOADED)")
                case 3: throw .badResponse("the server does not play the responder role (FCGI_UNKNOWN_ROLE)")
                default: throw .badResponse("protocol status \(b[4]) in END_REQUEST")
                }
            default: throw .badResponse("unexpected record type \(header.kind.rawValue)")
            }
        }
    }
}
