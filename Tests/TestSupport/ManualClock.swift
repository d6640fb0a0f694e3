import Idempotency
import Synchronization

/// A clock that moves only when a test tells it to.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>
    public init(_ start: Timestamp = 1_800_000_000_000) { current = Mutex(start) }
    public func now() -> Timestamp { current.withLock { $0 } }
    public func advance(seconds: Int64) { current.withLock { $0 += seconds * 1000 } }
    public func advance(milliseconds: Int64) { current.withLock { $0 += milliseconds } }
}
