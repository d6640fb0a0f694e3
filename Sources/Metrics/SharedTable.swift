import CAtomics

#if canImport(Glibc)
    import Glibc
#endif

/// Why the shared region could not be created.
public struct MetricsError: Error, CustomStringConvertible {
    public let description: String
}

/// A fixed-capacity open-addressing table of series slots in one `MAP_SHARED | MAP_ANONYMOUS`
/// mapping. Created before `fork()`, it is the same memory in every child, so any process reads
/// the counts of all of them.
///
/// Layout: a 256-byte header (the dropped-updates cell and the used-slots cell on their own cache
/// lines), then `capacity` slots of `stride` bytes (a multiple of 64, so two hot series never share
/// a cache line):
///
///     +0   state: 0 empty, else (high 32 bits of the identity hash) | 1 claiming or 2 ready
///     +8   identity length in bytes
///     +16  identity bytes (family name and label values, see `SeriesIdentity`)
///     +V   values: 64-bit cells, zero until first written
///
/// A slot is claimed by compare-and-swap 0 → claiming, filled, then published by a release store
/// of ready; it is never freed or reused, so readers need no lock and there is no ABA. Probing is
/// linear from FNV-1a(identity) mod capacity, the same in every process.
final class SharedTable: @unchecked Sendable {
    static let headerBytes = 256
    static let claiming: UInt64 = 1
    static let ready: UInt64 = 2
    static let stateMask: UInt64 = 3
    static let hashMask: UInt64 = 0xFFFF_FFFF_0000_0000
    /// How long a lookup waits for another process to finish filling a slot with the same hash
    /// before probing on; a claimer that died mid-fill otherwise blocks that series forever.
    static let claimWaitNanoseconds: UInt64 = 20_000_000

    let base: UnsafeMutableRawPointer
    let capacity: Int
    let maxIdentityBytes: Int
    let valuesPerSlot: Int
    let stride: Int
    let valuesOffset: Int

    init(capacity: Int, maxIdentityBytes: Int, valuesPerSlot: Int) throws(MetricsError) {
        precondition(capacity > 0, "capacity must be positive")
        precondition((8...4096).contains(maxIdentityBytes), "maxIdentityBytes must be in 8...4096")
        precondition(valuesPerSlot > 0, "a slot needs at least one value")
        self.capacity = capacity
        self.maxIdentityBytes = maxIdentityBytes
        self.valuesPerSlot = valuesPerSlot
        valuesOffset = 16 + (maxIdentityBytes + 7) / 8 * 8
        stride = (valuesOffset + 8 * valuesPerSlot + 63) / 64 * 64
        let (slotBytes, overflow) = capacity.multipliedReportingOverflow(by: stride)
        guard !overflow else { throw MetricsError(description: "metrics capacity \(capacity) is too large") }
        let size = Self.headerBytes + slotBytes
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw MetricsError(
                description: "mmap of \(size) bytes for metrics failed: \(String(cString: strerror(errno)))")
        }
        // Never unmapped: children inherit it and handles point into it for the life of the process.
        base = mapped
    }

    /// Updates that found no slot (table full or identity too long); rendered as a counter.
    var droppedCell: UnsafeMutablePointer<UInt64> {
        base.assumingMemoryBound(to: UInt64.self) + 8
    }

    /// Slots claimed so far, by any process.
    var usedCell: UnsafeMutablePointer<UInt64> {
        base.assumingMemoryBound(to: UInt64.self) + 16
    }

    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        base + Self.headerBytes + index * stride
    }

    func state(_ index: Int) -> UnsafeMutablePointer<UInt64> {
        slot(index).assumingMemoryBound(to: UInt64.self)
    }

    /// The first value cell of slot `index`.
    func values(_ index: Int) -> UnsafeMutablePointer<UInt64> {
        (slot(index) + valuesOffset).assumingMemoryBound(to: UInt64.self)
    }

    /// The identity stored in a ready slot.
    func identity(_ index: Int) -> UnsafeRawBufferPointer {
        let length = Int(catomics_load_relaxed((slot(index) + 8).assumingMemoryBound(to: UInt64.self)))
        return UnsafeRawBufferPointer(start: slot(index) + 16, count: min(length, maxIdentityBytes))
    }

    /// Whether slot `index` has been published.
    func isReady(_ index: Int) -> Bool {
        catomics_load_acquire(state(index)) & Self.stateMask == Self.ready
    }

    /// The slot holding `identity`, claiming an empty one if none does; nil when the table is full.
    func findOrInsert(_ identity: [UInt8]) -> Int? {
        precondition(identity.count <= maxIdentityBytes)
        let hash = SeriesIdentity.fnv1a(identity)
        let tag = hash & Self.hashMask
        var index = Int(hash % UInt64(capacity))
        for _ in 0..<capacity {
            let state = self.state(index)
            var current = catomics_load_acquire(state)
            if current == 0 {
                var expected: UInt64 = 0
                if catomics_compare_exchange(state, &expected, tag | Self.claiming) {
                    fill(index, with: identity)
                    catomics_store_release(state, tag | Self.ready)
                    catomics_fetch_add_relaxed(usedCell, 1)
                    return index
                }
                current = expected
            }
            if current & Self.hashMask == tag {
                if current & Self.stateMask == Self.claiming { current = waitForReady(state) }
                if current & Self.stateMask == Self.ready && matches(index, identity) { return index }
            }
            index = index + 1 == capacity ? 0 : index + 1
        }
        return nil
    }

    private func fill(_ index: Int, with identity: [UInt8]) {
        identity.withUnsafeBytes { bytes in
            (slot(index) + 16).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        catomics_store_relaxed((slot(index) + 8).assumingMemoryBound(to: UInt64.self), UInt64(identity.count))
    }

    private func matches(_ index: Int, _ identity: [UInt8]) -> Bool {
        let stored = self.identity(index)
        return stored.count == identity.count
            && identity.withUnsafeBytes { memcmp($0.baseAddress!, stored.baseAddress!, stored.count) == 0 }
    }

    /// Spins (yielding) until the slot is ready or the wait bound passes; returns the last state.
    /// On timeout the caller probes on and may insert a second slot for the same identity;
    /// rendering merges such duplicates, so counts stay exact.
    private func waitForReady(_ state: UnsafeMutablePointer<UInt64>) -> UInt64 {
        let start = Self.monotonicNanoseconds()
        var spins = 0
        while true {
            let current = catomics_load_acquire(state)
            if current & Self.stateMask != Self.claiming { return current }
            spins += 1
            if spins % 64 == 0 && Self.monotonicNanoseconds() - start > Self.claimWaitNanoseconds { return current }
            sched_yield()
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
