import Foundation
import Idempotency
import LMDBStore
import Synchronization

/// Deletes expired records in small batches in the background, so the file stays bounded
/// under an endless stream of unique keys. Expiry is also enforced lazily on every claim.
final class Sweeper: Sendable {
    private let store: any InspectableStore
    private let log: Logger
    private let stopped = Atomic<Bool>(false)
    private let interval: Double
    private let clock: any WallClock
    private let done = DispatchSemaphore(value: 0)

    /// Flush the store once a second (`periodic` durability).
    private let syncEverySecond: Bool

    init(
        store: any InspectableStore, log: Logger, interval: Double = 30, clock: any WallClock = SystemClock(),
        syncEverySecond: Bool = false
    ) {
        self.syncEverySecond = syncEverySecond
        lockFD =
            (store as? LMDBStore).map { open($0.path + "-sweeper.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) } ?? -1
        self.store = store
        self.log = log
        self.interval = interval
        self.clock = clock
    }

    func start() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                var ticks = 0  // of 0.2 s
                while Double(ticks) * 0.2 < interval, !stopped.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: 0.2)
                    ticks += 1
                    // `periodic` durability: what was committed is on disk within a second.
                    if syncEverySecond, ticks % 5 == 0 {
                        do { try (store as? LMDBStore)?.sync() } catch {
                            log.warning("store sync failed", [("error", "\(error)")])
                        }
                    }
                }
                if stopped.load(ordering: .relaxed) { break }
                // One process sweeps at a time; the others skip this tick.
                guard holdsSweepLock() else { continue }
                _ = try? (store as? LMDBStore)?.clearStaleReaders()  // dead readers' slots pin old pages
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

    /// An open-file-description lock on `sweeper.lock` beside the store, taken once and kept
    /// for the life of the process (the kernel drops it if the process dies).
    private let lockFD: Int32

    private func holdsSweepLock() -> Bool {
        guard lockFD >= 0 else { return true }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        return fcntl(lockFD, 37 /* F_OFD_SETLK */, &lock) == 0
    }

    /// Stops and waits for a sweep in progress, so the store can be closed safely.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }
}
