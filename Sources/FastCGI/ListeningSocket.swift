import Foundation

/// Why the listening socket could not be set up; each message says what to do.
public struct ListenError: Error, CustomStringConvertible {
    public let description: String
}

/// A listening socket the workers accept on. Owns the fd (and the socket file it created).
public final class ListeningSocket: @unchecked Sendable {
    public let fd: Int32
    public let address: ListenAddress
    private let createdPath: String?

    private init(fd: Int32, address: ListenAddress, createdPath: String?) {
        self.fd = fd
        self.address = address
        self.createdPath = createdPath
    }

    /// Opens (or adopts) the socket for `address`.
    public static func open(_ address: ListenAddress, backlog: Int32 = 1024) throws(ListenError) -> ListeningSocket {
        switch address {
        case .inherited(let fd):
            var accepting: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, accepting == 1 else {
                throw ListenError(
                    description:
                        "fd \(fd) is not a listening socket; start idem from spawn-fcgi or a systemd .socket unit, or pass --listen"
                )
            }
            return ListeningSocket(fd: fd, address: address, createdPath: nil)
        case .unix(let path, let mode):
            return try openUnix(path: path, mode: mode, backlog: backlog, address: address)
        case .tcp(let host, let port):
            return try openTCP(host: host, port: port, backlog: backlog, address: address)
        }
    }

    private static func openUnix(path: String, mode: UInt16, backlog: Int32, address: ListenAddress) throws(ListenError)
        -> ListeningSocket
    {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.utf8.count < capacity else {
            throw ListenError(
                description: "socket path \(path) is longer than \(capacity - 1) bytes; choose a shorter --listen path")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        // A socket file left by a dead responder is removed; one that still answers is in use.
        if FileManager.default.fileExists(atPath: path) {
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let live = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, len) == 0 }
            }
            _ = Foundation.close(probe)
            if live {
                throw ListenError(
                    description: "socket \(path) is in use by another process; stop it or choose another --listen path")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: "socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Foundation.close(fd)
            throw ListenError(
                description: "cannot create socket \(path): \(reason); check that its directory exists and is writable")
        }
        chmod(path, mode_t(mode))
        guard listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Foundation.close(fd)
            unlink(path)
            throw ListenError(description: "listen on \(path): \(reason)")
        }
        return ListeningSocket(fd: fd, address: address, createdPath: path)
    }

    private static func openTCP(host: String, port: UInt16, backlog: Int32, address: ListenAddress) throws(ListenError)
        -> ListeningSocket
    {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            throw ListenError(description: "\(host) is not an IPv4 address; use e.g. 127.0.0.1:\(port)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: "socket(AF_INET): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Foundation.close(fd)
            throw ListenError(
                description: "cannot listen on \(host):\(port): \(reason); is another process using the port?")
        }
        return ListeningSocket(fd: fd, address: address, createdPath: nil)
    }

    /// Whether this process created the socket. An inherited one (systemd, spawn-fcgi) is
    /// shared with whoever passed it and must outlive this process: never shut it down.
    public var isOwned: Bool {
        if case .inherited = address { return false }
        return true
    }

    /// Stops a socket this process owns: queued connections are refused from here on. An
    /// inherited socket keeps them for the next instance.
    public func shutdownAccepts() {
        if isOwned { _ = Foundation.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Closes the socket and removes the socket file this process created.
    public func close() {
        _ = Foundation.close(fd)
        if let createdPath { unlink(createdPath) }
    }
}
