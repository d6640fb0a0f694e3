/// Where a FastCGI application server listens: a unix socket or an IPv4 host and port.
public enum FastCGIAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// The longest socket path `sockaddr_un` holds (108 bytes with the terminating NUL).
    static let maxUnixPathLength = 107

    /// Parses `unix:/run/php/php8.2-fpm.sock`, `/path.sock` or `127.0.0.1:9000` (the forms of
    /// php-fpm's `listen` and nginx's `fastcgi_pass`). `localhost` means 127.0.0.1; other host
    /// names are refused rather than resolved, so no request ever waits on DNS.
    public init?(_ text: String) {
        let path = text.hasPrefix("unix:") ? String(text.dropFirst(5)) : text
        if path.hasPrefix("/") {
            guard path.utf8.count <= Self.maxUnixPathLength, !path.utf8.contains(0) else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
        else { return nil }
        let host = text[..<colon] == "localhost" ? "127.0.0.1" : String(text[..<colon])
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }) else {
            return nil
        }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }
}
