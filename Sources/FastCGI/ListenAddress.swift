import Foundation

/// Where the responder accepts FastCGI connections from the web server.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// A unix socket created at `path` with permission bits `mode`.
    case unix(path: String, mode: UInt16)
    /// A TCP socket on `host:port` (use loopback unless the web server is remote).
    case tcp(host: String, port: UInt16)
    /// A listening socket already open on `fd`: spawn-fcgi and `StandardInput=socket` pass
    /// fd 0, systemd socket activation passes fd 3 with `LISTEN_FDS`.
    case inherited(fd: Int32)

    public static let defaultSocketMode: UInt16 = 0o660

    /// Parses `unix:/path`, `/path`, `tcp:host:port`, `host:port` or `fd:N`.
    public static func parse(_ text: String, socketMode: UInt16 = defaultSocketMode) -> ListenAddress? {
        if text.hasPrefix("fd:") {
            guard let fd = Int32(text.dropFirst(3)), fd >= 0 else { return nil }
            return .inherited(fd: fd)
        }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            return path.hasPrefix("/") || path.hasPrefix(".") ? .unix(path: path, mode: socketMode) : nil
        }
        if text.hasPrefix("/") || text.hasPrefix("./") { return .unix(path: text, mode: socketMode) }
        let rest = text.hasPrefix("tcp:") ? String(text.dropFirst(4)) : text
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            return nil
        }
        let host = String(rest[..<colon])
        return .tcp(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path, _): return "unix:\(path)"
        case .tcp(let host, let port): return "tcp:\(host):\(port)"
        case .inherited(let fd): return "fd:\(fd)"
        }
    }
}
