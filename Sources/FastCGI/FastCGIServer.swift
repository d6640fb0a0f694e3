import CFastCGI
import Foundation
import HTTP

/// A pool of worker threads fed by one poller thread (`ConnectionPoller`): the poller accepts
/// connections and watches the idle kept-alive ones; a worker takes a connection only when a
/// request is waiting on it, serves that request with libfcgi (`FCGX_Accept_r` on the
/// connection, `FCGX_Finish_r`), and gives the connection back. The only importer of CFastCGI.
///
/// Signals are the owner's business: block SIGTERM/SIGINT/SIGHUP before `start()` so the
/// threads inherit the mask (libfcgi installs its own SIGTERM handler otherwise).
public final class FastCGIServer: @unchecked Sendable {
    /// Turns one request into its response; called concurrently from the worker threads.
    public typealias Responder = @Sendable (Request) -> Response

    public struct Options: Sendable {
        public var workers = 16
        /// Request bodies above this are answered with 413 without reaching the responder.
        public var maxBodyBytes = 1 << 20
        public init() {}
    }

    private let socket: ListeningSocket
    private let options: Options
    private let responder: Responder
    private let ready = ReadyQueue()
    private var poller: ConnectionPoller!
    private let finished = DispatchGroup()

    public init(socket: ListeningSocket, options: Options, responder: @escaping Responder) {
        self.socket = socket
        self.options = options
        self.responder = responder
    }

    /// Initialises libfcgi (`FCGX_Init`), starts the poller and the workers.
    public func start() {
        precondition(FCGX_Init() == 0, "FCGX_Init failed")
        let poller = ConnectionPoller(listening: socket.fd, queue: ready)
        self.poller = poller
        finished.enter()
        let pollerThread = Thread { [self] in
            poller.run()
            finished.leave()
        }
        pollerThread.name = "idem-poller"
        pollerThread.start()
        for index in 0..<max(1, options.workers) {
            finished.enter()
            let thread = Thread { [self] in
                workerLoop()
                finished.leave()
            }
            thread.name = "idem-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Stops accepting and waits up to `timeout` for requests in progress, and those already
    /// received, to finish. Returns whether all did. A socket this process created is shut
    /// down; an inherited one is left intact, so connections queued on it wait for the next
    /// instance. Idle kept-alive connections are closed.
    @discardableResult
    public func stop(timeout: Double = 10) -> Bool {
        poller.stop()
        socket.shutdownAccepts()
        ready.close()
        return finished.wait(timeout: .now() + timeout) == .success
    }

    private func workerLoop() {
        while let connection = ready.pop() {
            let request = connection.request
            guard FCGX_Accept_r(request) >= 0 else {
                connection.free()  // closed, or not FastCGI
                continue
            }
            // An empty request (no params) is how an older idem woke its acceptors: skip it.
            if FCGX_GetParam("REQUEST_METHOD", request.pointee.envp) != nil { serve(request) }
            if connection.finishRequest() {
                poller.watch(connection)  // nginx keeps it (FCGI_KEEP_CONN): wait for its next request
            } else {
                connection.free()
            }
        }
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
