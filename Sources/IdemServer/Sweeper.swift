import Foundation
import Idempotency
import LMDBStore
import Synchronization

/// Deletes expired records in small batches in the background, so the file stays bounded
/// under an endless stream of unique keys. Expiry is also enforced lazily on every claim.
final class Sweeper: Sendable {
    private let store: LMDBStore
    private let log: Logger
    private let stopped = Atomic<Bool>(false)
    private let interval: Double
    private let clock: any WallClock
    private let done = DispatchSemaphore(value: 0)

    init(store: LMDBStore, log: Logger, interval: Double = 30, clock: any WallClock = SystemClock()) {
        self.store = store
        self.log = log
        self.interval = interval
        self.clock = clock
    }

    func start() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                var slept = 0.0
                while slept < interval, !stopped.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: 0.2)
                    slept += 0.2
                }
                if stopped.load(ordering: .relaxed) { break }
                do {
                    var total = 0
                    while true {
                        let n = try store.sweep(now: clock.now(), limit: 256)
                        total += n
                        if n < 256 || stopped.load(ordering: .relaxed) { break }
                    }
                    if total > 0 { log.info("swept expired records", [("count", String(total))]) }
                } catch {
                    log.warning("sweep failed", [("error", String(describing: error))])
                }
            }
            done.signal()
        }
        thread.name = "idem-sweeper"
        thread.start()
    }

    /// Stops and waits for a sweep in progress, so the store can be closed safely.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }
}
