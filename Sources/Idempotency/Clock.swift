import Foundation

/// Wall-clock milliseconds since the Unix epoch: records are shared between processes
/// (and later machines), so a monotonic clock would not do.
public typealias Timestamp = Int64

/// The source of time for policies and stores; tests inject a manual one.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// The system's real-time clock (`clock_gettime(CLOCK_REALTIME)`).
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Blocks the calling thread (`nanosleep`).
    public static func sleep(milliseconds: Int64) {
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
