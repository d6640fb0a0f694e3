#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds on `CLOCK_MONOTONIC`: for durations only (handler and store time in the logs and
/// metrics), never for anything stored.
public enum MonotonicTime {
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
