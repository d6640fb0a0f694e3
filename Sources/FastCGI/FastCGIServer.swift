import CFastCGI
import Foundation
import HTTP
import Synchronization

/// A pool of worker threads, each owning one heap-allocated `FCGX_Request`, accepting on a
/// shared listening socket as libfcgi's `threaded.c` does. The only importer of CFastCGI.
///
/// Signals are the owner's business: block SIGTERM/SIGINT/SIGHUP before `start()` so the
/// workers inherit the mask (libfcgi installs its own SIGTERM handler otherwise).
public final class FastCGIServer: @unchecked Sendable {
    /// Turns one request into its response; called concurrently from the worker threads.
    public typealias Responder = @Sendable (Request) -> Response

    public struct Options: Sendable {
        public var workers = 8
        /// Request bodies above this are answered with 413 without reaching the responder.
        public var maxBodyBytes = 1 << 20
        public init() {}
    }

    private let socket: ListeningSocket
    private let options: Options
    private let responder: Responder
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private var threads: [Thread] = []
    private var slots: [WorkerSlot] = []
    private let finished = DispatchGroup()

    /// What one worker is doing, so `stop()` can wake the ones idling on a kept-alive
    /// connection without cutting off a request in progress.
    private final class WorkerSlot: Sendable {
        /// true while the worker waits for its next request (accept or kept-alive read).
        let idle = Atomic<Bool>(true)
        /// The kept-alive connection it waits on, or -1.
        let connection = Atomic<Int32>(-1)
        /// Set when the worker's loop has ended.
        let exited = Atomic<Bool>(false)
    }

    public init(socket: ListeningSocket, options: Options, responder: @escaping Responder) {
        self.socket = socket
        self.options = options
        self.responder = responder
    }

    /// Initialises libfcgi (`FCGX_Init`) and starts the workers.
    public func start() {
        precondition(FCGX_Init() == 0, "FCGX_Init failed")
        for index in 0..<max(1, options.workers) {
            finished.enter()
            let slot = WorkerSlot()
            slots.append(slot)
            let thread = Thread { [self] in
                self.workerLoop(slot)
                slot.exited.store(true, ordering: .sequentiallyConsistent)
                self.finished.leave()
            }
            thread.name = "idem-worker-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Stops accepting and waits up to `timeout` for requests in progress to finish. Returns
    /// whether all did. A socket this process created is shut down (`shutdown(2)` wakes the
    /// acceptors). An inherited one is left intact, so connections queued on it wait for the
    /// next instance; each idle acceptor is woken by an empty FastCGI request sent to it.
    @discardableResult
    public func stop(timeout: Double = 10) -> Bool {
        stopping.store(true, ordering: .sequentiallyConsistent)
        FCGX_ShutdownPending()
        socket.shutdownAccepts()
        var wakeUps: [Int32] = []
        defer { for fd in wakeUps { _ = Foundation.close(fd) } }
        // Workers idling on a kept-alive connection would wait for nginx's next request
        // forever: end the read side, so they see EOF. A worker serving a request keeps
        // its connection and finishes (its response is written; the read side is not used).
        for slot in slots where slot.idle.load(ordering: .sequentiallyConsistent) {
            let fd = slot.connection.load(ordering: .sequentiallyConsistent)
            if fd >= 0 { _ = Foundation.shutdown(fd, Int32(SHUT_RD)) }
        }
        let deadline = DispatchTime.now() + timeout
        while DispatchTime.now() < deadline {
            // On an inherited socket, wake each idle worker with one empty request; repeat for
            // workers that went back to accept after their kept-alive connection closed.
            if !socket.isOwned {
                let idle = slots.filter {
                    $0.idle.load(ordering: .sequentiallyConsistent)
                        && !$0.exited.load(ordering: .sequentiallyConsistent)
                }
                for _ in idle {
                    let fd = socket.connectToSelf()
                    guard fd >= 0 else { continue }
                    Self.sendWakeUpRequest(fd)
                    wakeUps.append(fd)
                }
            }
            if finished.wait(timeout: min(deadline, .now() + 0.2)) == .success { return true }
        }
        return false
    }

    private func workerLoop(_ slot: WorkerSlot) {
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        guard FCGX_InitRequest(request, socket.fd, 0) == 0 else { return }
        defer { FCGX_Free(request, 1) }
        while true {
            // Publish "idle on this connection" before checking `stopping`; `stop()` sets
            // `stopping` before reading the slots, so one of the two always sees the other.
            slot.connection.store(request.pointee.ipcFd, ordering: .sequentiallyConsistent)
            slot.idle.store(true, ordering: .sequentiallyConsistent)
            if stopping.load(ordering: .sequentiallyConsistent) { break }
            if request.pointee.ipcFd >= 0, !keepsConnection(request.pointee.ipcFd) {
                // Pinned to an idle kept-alive connection while a new one waits unaccepted:
                // give the kept one up (nginx drops it from its cache) and take the new one.
                _ = Foundation.close(request.pointee.ipcFd)
                request.pointee.ipcFd = -1
            }
            let accepted = FCGX_Accept_r(request)
            slot.idle.store(false, ordering: .sequentiallyConsistent)
            guard accepted >= 0 else {
                if stopping.load(ordering: .sequentiallyConsistent) { break }
                usleep(10_000)  // EMFILE and friends: back off instead of spinning
                continue
            }
            // The empty request `stop()` sends to wake an acceptor carries no params: skip it
            // (also in a later instance that finds one left in an inherited socket's queue).
            if FCGX_GetParam("REQUEST_METHOD", request.pointee.envp) != nil { serve(request) }
            FCGX_Finish_r(request)
        }
    }

    /// Waits on a kept-alive connection for nginx's next request, as libfcgi would, but also
    /// watches the listening socket: a worker waiting on a kept connection serves nobody else,
    /// so with every worker pinned that way a new connection would sit in the accept queue
    /// until nginx happened to close one (the trap that makes `keepalive` >= workers stall).
    /// Returns false when a connection has waited unaccepted for 2 ms with this one still idle.
    private func keepsConnection(_ connection: Int32) -> Bool {
        var fds = [
            pollfd(fd: connection, events: Int16(POLLIN), revents: 0),
            pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0),
        ]
        while !stopping.load(ordering: .relaxed) {
            let ready = poll(&fds, 2, 1000)
            if ready < 0 && errno != EINTR { return true }
            if fds[0].revents != 0 { return true }
            guard fds[1].revents & Int16(POLLIN) != 0 else { continue }
            // Workers blocked in accept() take a new connection within microseconds.
            var own = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            if poll(&own, 1, 2) > 0 { return true }
            var listening = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            if poll(&listening, 1, 0) > 0 && listening.revents & Int16(POLLIN) != 0 { return false }
        }
        return true
    }

    /// FCGI_BEGIN_REQUEST (responder, no keep-alive), an empty FCGI_PARAMS and an empty
    /// FCGI_STDIN: the smallest complete FastCGI request.
    static func sendWakeUpRequest(_ fd: Int32) {
        let record: [UInt8] = [
            1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,  // BEGIN_REQUEST id 1, role RESPONDER
            1, 4, 0, 1, 0, 0, 0, 0,  // PARAMS, empty: end of params
            1, 5, 0, 1, 0, 0, 0, 0,  // STDIN, empty: end of input
        ]
        _ = record.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = Foundation.shutdown(fd, Int32(SHUT_WR))
    }

    private func serve(_ raw: UnsafeMutablePointer<FCGX_Request>) {
        let (response, bodyLength) = FastCGIParams(envp: raw.pointee.envp).respond(
            maxBodyBytes: options.maxBodyBytes, read: { readInput(raw, count: $0) },
            discard: { discardInput(raw, count: $0) }, responder: responder)
        FastCGIResponseWriter.write(response, bodyLength: bodyLength, to: raw.pointee.out)
    }

    /// Reads exactly `count` bytes of FCGI_STDIN (fewer if the server sends less).
    private func readInput(_ raw: UnsafeMutablePointer<FCGX_Request>, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: count)
        var filled = 0
        body.withUnsafeMutableBytes { buffer in
            while filled < count {
                let n = FCGX_GetStr(
                    buffer.baseAddress!.advanced(by: filled).assumingMemoryBound(to: CChar.self), Int32(count - filled),
                    raw.pointee.`in`)
                if n <= 0 { break }
                filled += Int(n)
            }
        }
        if filled < count { body.removeLast(count - filled) }
        return body
    }

    private func discardInput(_ raw: UnsafeMutablePointer<FCGX_Request>, count: Int) {
        var scratch = [CChar](repeating: 0, count: 65536)
        var left = count
        while left > 0 {
            let n = FCGX_GetStr(&scratch, Int32(min(left, scratch.count)), raw.pointee.`in`)
            if n <= 0 { break }
            left -= Int(n)
        }
    }
}
