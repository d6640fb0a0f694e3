import Foundation

/// A connected stream socket to a FastCGI server, closed exactly once when it goes away.
/// Every call is bounded in time: `connect` by `SO_SNDTIMEO` (Linux applies it to connect for
/// unix and TCP sockets), `send` by `SO_SNDTIMEO` and the deadline, every read by `poll` up to
/// the exchange's deadline (`SO_RCVTIMEO` stays set as a backstop), so no call can hang.
struct FastCGISocket: ~Copyable {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// `recv` lands here first: growing `buffer` by 64 KiB of zeros per read cost ~12 ms in
    /// debug builds (measured through nginx); a memset once per connection does not.
    private var scratch = [UInt8](repeating: 0, count: 65536)

    private init(fd: Int32) { self.fd = fd }

    deinit { _ = Foundation.close(fd) }

    /// Wraps `socket(2)` and `connect(2)` for `address`.
    static func connect(to address: FastCGIAddress, timeoutMs: Int) throws(FastCGIClientError) -> FastCGISocket {
        let family = if case .unix = address { AF_UNIX } else { AF_INET }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unavailable("socket(): \(Self.reason(errno))") }
        let socket = FastCGISocket(fd: fd)
        socket.setTimeout(SO_SNDTIMEO, milliseconds: timeoutMs)
        let rc: Int32
        switch address {
        case .unix(let path):
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                raw.copyBytes(from: path.utf8.prefix(FastCGIAddress.maxUnixPathLength))
                raw[min(path.utf8.count, FastCGIAddress.maxUnixPathLength)] = 0
            }
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        case .tcp(let host, let port):
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw .unavailable("\(host) is not IPv4") }
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if rc != 0 {
            let code = errno
            // EINPROGRESS (TCP) and EAGAIN (unix, backlog full) are how SO_SNDTIMEO ends a connect.
            if code == EINPROGRESS || code == EAGAIN || code == ETIMEDOUT {
                throw .timeout("connecting took longer than \(timeoutMs) ms")
            }
            throw .unavailable("connect: \(Self.reason(code))")
        }
        return socket
    }

    /// Sets `SO_SNDTIMEO` or `SO_RCVTIMEO`; 0 would mean "forever", so the minimum is 1 ms.
    func setTimeout(_ option: Int32, milliseconds: Int) {
        let ms = max(1, milliseconds)
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes` with `send(2)`; `MSG_NOSIGNAL` so a server that went away is an
    /// error here instead of a SIGPIPE that would kill the responder.
    func sendAll(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(FastCGIClientError) {
        var sent = 0
        while sent < bytes.count {
            guard deadline > .now else { throw .timeout("sending the request took too long") }
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
                continue
            }
            let code = errno
            if n < 0 && code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw .timeout("sending the request took too long") }
            throw .badResponse("the connection failed while sending the request: \(Self.reason(code))")
        }
    }

    /// Exactly `count` bytes, or nil when the server closed the connection before the first
    /// of them (a clean end); closing in the middle is an error naming `what`.
    mutating func read(_ count: Int, what: String, deadline: ContinuousClock.Instant) throws(FastCGIClientError)
        -> ArraySlice<UInt8>?
    {
        while buffer.count - start < count {
            let got = try fill(deadline: deadline)
            if got == 0 {
                if buffer.count == start { return nil }
                throw .badResponse("the connection closed in the middle of \(what)")
            }
        }
        let slice = buffer[start..<(start + count)]
        start += count
        return slice
    }

    /// One `recv(2)` into the buffer after `poll(2)` says data is there; 0 at end of stream.
    private mutating func fill(deadline: ContinuousClock.Instant) throws(FastCGIClientError) -> Int {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        while true {
            let left = deadline - .now
            let ms = Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard ms > 0 else { throw .timeout("no complete answer within the timeout") }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(ms, Int(Int32.max))))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { throw .timeout("no complete answer within the timeout") }
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 {
                buffer.append(contentsOf: scratch[0..<n])
                return n
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw .timeout("no complete answer within the timeout") }
            throw .badResponse("reading the answer failed: \(Self.reason(code))")
        }
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
