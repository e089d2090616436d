#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one clock every hop's time stamp is read from: CLOCK_REALTIME in
/// nanoseconds since the Unix epoch. Across hosts these stamps are only as
/// close as the hosts' clocks (see the README on clock skew).
public enum WallClock {
    @inline(__always)
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}
