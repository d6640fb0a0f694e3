import CFastCGI
import Glibc

/// One FastCGI connection from nginx and the libfcgi request state that reads it. Created when
/// the poller accepts it, handed to a worker for each request, returned to the poller while
/// idle, freed when either side closes it.
final class Connection: @unchecked Sendable {
    let request: UnsafeMutablePointer<FCGX_Request>
    /// Whether the descriptor is in the poller's epoll set (armed or spent, `EPOLLONESHOT`).
    var registered = false

    /// A connection accepted by the poller. libfcgi is given no listening socket (-1): it
    /// reads requests from `fd` and never accepts connections itself.
    init(fd: Int32) {
        request = .allocate(capacity: 1)
        FCGX_InitRequest(request, -1, 0)
        request.pointee.ipcFd = fd
        // FCGX_Accept_r begins with FCGX_Finish_r, which closes a connection not marked kept.
        request.pointee.keepConnection = 1
    }

    var fd: Int32 { request.pointee.ipcFd }

    /// Ends the request libfcgi read on this connection (`FCGX_Finish_r`) without letting
    /// libfcgi close it: its close waits for the peer with `select()`, which cannot watch a
    /// descriptor above 1023. Returns whether nginx asked to keep the connection
    /// (`FCGI_KEEP_CONN`); when it did not, the connection is closed here.
    func finishRequest() -> Bool {
        let keep = request.pointee.keepConnection != 0
        request.pointee.keepConnection = 1
        FCGX_Finish_r(request)
        if !keep { closeDescriptor() }
        return keep
    }

    private func closeDescriptor() {
        let fd = request.pointee.ipcFd
        guard fd >= 0 else { return }
        _ = shutdown(fd, Int32(SHUT_WR))
        _ = Glibc.close(fd)
        request.pointee.ipcFd = -1
    }

    /// Closes the descriptor and frees libfcgi's request state.
    func free() {
        closeDescriptor()
        FCGX_Free(request, 0)
        request.deallocate()
    }
}

/// The requests ready to serve, in arrival order, for the workers to take.
final class ReadyQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Connection] = []
    private var head = 0
    private var closed = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func push(_ connection: Connection) {
        pthread_mutex_lock(mutex)
        items.append(connection)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// The next connection with a request waiting; nil once closed and drained.
    func pop() -> Connection? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count {
            if closed { return nil }
            pthread_cond_wait(condition, mutex)
        }
        let connection = items[head]
        head += 1
        if head > 64, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return connection
    }

    /// Wakes every worker; what is queued is still served.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}

/// Watches the listening socket and every idle kept-alive connection with one epoll set, and
/// hands a connection to the workers only when a request arrives on it. A worker is thus never
/// pinned to an idle connection (libfcgi's own loop waits on a kept connection and serves no
/// one else meanwhile, so with `keepalive` >= workers new connections stall in the accept
/// queue), and idle connections are never closed under nginx, which would fail the request
/// nginx was sending on one at that moment.
final class ConnectionPoller: @unchecked Sendable {
    private let epoll: Int32
    private let listening: Int32
    private let queue: ReadyQueue
    private let wake: (read: Int32, write: Int32)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Idle connections by descriptor, so a stop can close them; guarded by `lock`.
    private var idle: [Int32: Connection] = [:]
    private var stopped = false
    private static let listenTag: UInt64 = 1
    private static let wakeTag: UInt64 = 2

    /// `listening` is made non-blocking: every responder process sharing it accepts from its
    /// own poller, and only one of them gets each connection.
    init(listening: Int32, queue: ReadyQueue) {
        self.listening = listening
        self.queue = queue
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wake = (fds[0], fds[1])
        pthread_mutex_init(lock, nil)
        _ = fcntl(listening, F_SETFL, fcntl(listening, F_GETFL) | O_NONBLOCK)
        // EPOLLEXCLUSIVE: one waiting process is woken per new connection, not all of them.
        add(listening, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, tag: Self.listenTag)
        add(wake.read, events: EPOLLIN.rawValue, tag: Self.wakeTag)
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(wake.read)
        Glibc.close(wake.write)
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    private func add(_ fd: Int32, events: UInt32, tag: UInt64) {
        var event = epoll_event(events: events, data: epoll_data_t(u64: tag))
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
    }

    /// Takes back a connection after a worker served a request on it, until the next request.
    func watch(_ connection: Connection) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopped else {
            connection.free()
            return
        }
        idle[connection.fd] = connection
        let pointer = UInt64(UInt(bitPattern: Unmanaged.passUnretained(connection).toOpaque()))
        var event = epoll_event(
            events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue, data: epoll_data_t(u64: pointer))
        let op = connection.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        if epoll_ctl(epoll, op, connection.fd, &event) == 0 {
            connection.registered = true
        } else {
            idle[connection.fd] = nil
            connection.free()
        }
    }

    /// The poller's loop, on its own thread, until `stop()`.
    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let n = epoll_wait(epoll, &events, Int32(events.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for event in events[0..<Int(n)] {
                switch event.data.u64 {
                case Self.wakeTag:
                    closeIdle()
                    return
                case Self.listenTag: acceptPending()
                default: requestArrived(event.data.u64)
                }
            }
        }
    }

    /// Accepts every connection waiting; each goes straight to a worker (nginx sends the
    /// request right after connecting).
    private func acceptPending() {
        while true {
            let fd = accept(listening, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                queue.push(Connection(fd: fd))
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(10_000)  // out of descriptors: back off, not spin
            default: break  // EAGAIN: none left; another process took it
            }
            return
        }
    }

    /// An idle connection became readable: a request, or nginx closing it.
    private func requestArrived(_ tag: UInt64) {
        guard let raw = UnsafeMutableRawPointer(bitPattern: UInt(tag)) else { return }
        let connection = Unmanaged<Connection>.fromOpaque(raw).takeUnretainedValue()
        pthread_mutex_lock(lock)
        guard idle.removeValue(forKey: connection.fd) != nil else {
            pthread_mutex_unlock(lock)
            return
        }
        pthread_mutex_unlock(lock)
        var byte: UInt8 = 0
        let peeked = recv(connection.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked > 0 {
            queue.push(connection)
        } else if peeked < 0 && (errno == EAGAIN || errno == EINTR) {
            watch(connection)
        } else {
            connection.free()  // closed by nginx
        }
    }

    /// Stops accepting (the listening socket stays open: queued connections wait for the next
    /// instance, or the owner shuts it down) and closes the idle connections, on the poller's
    /// thread. Connections in the workers' hands are freed when they come back.
    func stop() {
        pthread_mutex_lock(lock)
        stopped = true
        pthread_mutex_unlock(lock)
        var byte: UInt8 = 1
        _ = Glibc.write(wake.write, &byte, 1)
    }

    private func closeIdle() {
        var event = epoll_event()
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, listening, &event)
        pthread_mutex_lock(lock)
        let closing = idle
        idle = [:]
        pthread_mutex_unlock(lock)
        for connection in closing.values { connection.free() }
    }
}
