// store_bench.swift: the Swift side of the store microbenchmark (make bench), compiled by
// run.sh against the release build's LMDBStore module and objects (no package change needed).
// It does exactly what `idem-store-probe bench` does (claim + complete per key, records of
// the same shape), then times `record(for:)` lookups of random stored keys — the replay
// path's store read (read transaction, copy out, RecordCodec.decode).
//
//   store_bench FILE COUNT full|metaAsync|noSync [LOOKUPS]
import Glibc
import Idempotency
import LMDBStore

func scope(_ name: String) -> Scope {
    Scope(principal: "", method: "POST", route: "/probe", key: IdempotencyKey(unchecked: name))
}

func claimRecord(_ name: String, now: Timestamp) -> IdempotencyRecord {
    IdempotencyRecord(
        state: .inProgress, fingerprint: Fingerprint(bytes: [UInt8](repeating: 0, count: Fingerprint.byteCount)),
        createdAt: now, expiresAt: now + 86_400_000, leaseUntil: now + 60_000, token: .random(), attempt: 1,
        response: nil, scope: scope(name))
}

func microseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

/// `value` with `digits` decimals (no Foundation).
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int((value * Double(scale)).rounded())
    let frac = String(n % scale)
    return "\(n / scale)." + String(repeating: "0", count: digits - frac.count) + frac
}

let args = CommandLine.arguments
guard args.count >= 4, let count = Int(args[2]), count > 0,
    let durability = LMDBStore.Durability(rawValue: args[3])
else {
    print("usage: store_bench FILE COUNT full|metaAsync|noSync [LOOKUPS]")
    exit(64)
}
let lookups = args.count > 4 ? Int(args[4]) ?? 100_000 : 100_000
do throws(StoreError) {
    let clock = SystemClock()
    let store = try LMDBStore(path: args[1], options: .init(durability: durability))
    let run = Int(microseconds())
    var keys: [StoreKey] = []
    keys.reserveCapacity(count)
    var start = microseconds()
    for i in 0..<count {
        let name = "bench-\(run)-\(i)"
        let key = scope(name).storeKey
        let record = claimRecord(name, now: clock.now())
        _ = try store.claim(key, record)
        var done = record
        done.state = .complete
        done.response = StoredResponse(
            status: 201, headers: [("Content-Type", "application/json")], body: Array(repeating: 0x61, count: 200))
        _ = try store.complete(key, token: record.token, with: done)
        keys.append(key)
    }
    let writeMicros = (microseconds() - start) / Double(count)
    var rng = SystemRandomNumberGenerator()
    let picks = (0..<lookups).map { _ in keys[Int.random(in: 0..<count, using: &rng)] }
    var found = 0
    start = microseconds()
    for key in picks where try store.record(for: key)?.response?.status == 201 { found += 1 }
    let readMicros = (microseconds() - start) / Double(lookups)
    guard found == lookups else {
        print("error: \(lookups - found) lookups missed")
        exit(2)
    }
    print(
        "\(durability.rawValue): \(fixed(writeMicros, 1)) µs per claim+complete (\(count) ops), "
            + "\(fixed(readMicros, 2)) µs per lookup (\(lookups) ops)")
} catch {
    print("error \(error)")
    exit(2)
}
