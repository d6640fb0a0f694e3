import Foundation

/// The parent of `--processes N`: forks N responder processes that share the listening
/// socket and the store, restarts one that dies, and forwards SIGTERM/SIGINT/SIGHUP.
/// It forks before any thread or LMDB environment exists, and never opens either itself.
final class Supervisor {
    private let processes: Int
    private let log: Logger
    private let child: () -> Int32
    private var children: Set<pid_t> = []
    private var recentRestarts: [Double] = []

    init(processes: Int, log: Logger, child: @escaping () -> Int32) {
        self.processes = processes
        self.log = log
        self.child = child
    }

    func run(drainSeconds: Int64) -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        for _ in 0..<processes { spawn() }
        log.log(.notice, "supervisor started", [("processes", String(processes)), ("pid", String(getpid()))])
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            switch received {
            case SIGCHLD:
                reap(restart: true)
            case SIGHUP:
                for pid in children { kill(pid, SIGHUP) }
            default:
                return stop(signal: received, drainSeconds: drainSeconds)
            }
        }
    }

    private func spawn() {
        let pid = fork()
        if pid == 0 {
            var chld = sigset_t()
            sigemptyset(&chld)
            sigaddset(&chld, SIGCHLD)
            pthread_sigmask(SIG_UNBLOCK, &chld, nil)
            exit(child())
        }
        guard pid > 0 else {
            log.error("fork failed", [("error", String(cString: strerror(errno)))])
            return
        }
        children.insert(pid)
    }

    /// Collects exited children; replaces them unless stopping (at most 5 restarts per 10 s,
    /// so a child that cannot start does not spin).
    private func reap(restart: Bool) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            children.remove(pid)
            guard restart else { continue }
            log.error(
                "responder process exited; starting another",
                [("pid", String(pid)), ("status", String(status))])
            let now = Date().timeIntervalSince1970
            recentRestarts = recentRestarts.filter { now - $0 < 10 } + [now]
            if recentRestarts.count > 5 { Thread.sleep(forTimeInterval: 2) }
            spawn()
        }
    }

    private func stop(signal: Int32, drainSeconds: Int64) -> Int32 {
        log.log(.notice, "supervisor stopping", [("processes", String(children.count))])
        for pid in children { kill(pid, signal) }
        let deadline = Date().addingTimeInterval(Double(drainSeconds))
        while !children.isEmpty && Date() < deadline {
            reap(restart: false)
            usleep(20_000)
        }
        for pid in children { kill(pid, SIGKILL) }
        reap(restart: false)
        log.log(.notice, "supervisor stopped")
        return 0
    }
}
