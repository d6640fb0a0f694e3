// idem-store-probe: the second process of LMDBStoreTests. It opens the store file given on the
// command line, does one thing, and prints one line per result.
//
//   <file> claim <key>          claimed | existing in-progress attempt=<n> | existing complete <status> <body>
//   <file> complete <key> <status> <body>
//                               claims, then completes: completed | lost | existing …
//   <file> get <key>            absent | in-progress attempt=<n> | complete <status> <body>
//   <file> claim-many <prefix> <count> <start-at-ms>
//                               waits for the wall clock, claims <prefix>0…, prints each key it won, then done <n>
//   <file> bench <count> full|metaAsync|noSync [lookups]
//                               µs per claim+complete and per lookup (the LMDB side of `make bench`)
//   store-bench redis <url> <count> | store-bench postgres <connection> <count>
//                               µs per claim+complete and per lookup on a shared store (for `make bench`)
//   <file> fill <count>         <count> complete records (keys fill-0…), unsynced, for `make bench`'s
//                               large-store scenario; prints filled <n>
import Glibc
import Idempotency
import LMDBStore
import PostgresStore
import RedisStore

func storeKey(_ name: String) -> StoreKey { scope(name).storeKey }
func scope(_ name: String) -> Scope {
    Scope(principal: "", method: "POST", route: "/probe", key: IdempotencyKey(unchecked: name))
}

func claimRecord(_ name: String, now: Timestamp) -> IdempotencyRecord {
    IdempotencyRecord(
        state: .inProgress, fingerprint: Fingerprint(bytes: [UInt8](repeating: 0, count: Fingerprint.byteCount)),
        createdAt: now, expiresAt: now + 86_400_000, leaseUntil: now + 60_000, token: .random(), attempt: 1,
        response: nil, scope: scope(name))
}

func describe(_ record: IdempotencyRecord?) -> String {
    guard let record else { return "absent" }
    switch record.state {
    case .inProgress: return "in-progress attempt=\(record.attempt)"
    case .complete:
        let response = record.response
        return "complete \(response?.status ?? 0) \(String(decoding: response?.body ?? [], as: UTF8.self))"
    case .unavailable: return "unavailable"
    }
}

/// Microseconds of monotonic time.
func micros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

/// The store microbenchmark `make bench` runs on every store kind: `count` claim+complete pairs
/// (records of a replay's shape), then `lookups` reads of random stored keys (the replay
/// path's store read). Prints "<label>: X µs per claim+complete (N ops), Y µs per lookup (M ops)".
func timeStore(_ store: any IdempotencyStore, label: String, count: Int, lookups: Int) throws(StoreError) -> Int32 {
    let clock = SystemClock()
    let run = Int(micros())
    var keys: [StoreKey] = []
    keys.reserveCapacity(count)
    var start = micros()
    for i in 0..<count {
        let name = "bench-\(run)-\(i)"
        let record = claimRecord(name, now: clock.now())
        _ = try store.claim(storeKey(name), record)
        var done = record
        done.state = .complete
        done.response = StoredResponse(
            status: 201, headers: [("Content-Type", "application/json")], body: Array(repeating: 0x61, count: 200))
        _ = try store.complete(storeKey(name), token: record.token, with: done)
        keys.append(storeKey(name))
    }
    let write = (micros() - start) / Double(count)
    let picks = (0..<lookups).map { _ in keys[Int.random(in: 0..<count)] }
    start = micros()
    for key in picks where try store.record(for: key)?.response?.status != 201 {
        print("error: a lookup missed \(key)")
        return 2
    }
    let read = (micros() - start) / Double(max(lookups, 1))
    print(
        "\(label): \(fixed(write, 1)) µs per claim+complete (\(count) ops), \(fixed(read, 2)) µs per lookup (\(lookups) ops)"
    )
    return 0
}

/// `value` with `digits` decimals, without Foundation.
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int((value * Double(scale)).rounded())
    let fraction = String(n % scale)
    return "\(n / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// `store-bench redis|postgres TARGET COUNT`: `timeStore` on a shared store.
func benchSharedStore(kind: String, target: String, count: Int) throws(StoreError) -> Int32 {
    let store: any IdempotencyStore
    switch kind {
    case "redis":
        let url: RedisURL
        do { url = try RedisURL(target) } catch { throw .unavailable(error.description) }
        store = try RedisStore(url: url)
    case "postgres":
        try PostgresStore.migrate(connection: target)
        store = try PostgresStore(connection: target, poolSize: 1)
    default: return usage()
    }
    return try timeStore(store, label: kind, count: count, lookups: count)
}

func run(_ args: [String]) throws(StoreError) -> Int32 {
    if args.count == 5, args[1] == "store-bench", let count = Int(args[4]), count > 0 {
        return try benchSharedStore(kind: args[2], target: args[3], count: count)
    }
    guard args.count >= 4 else { return usage() }
    let clock = SystemClock()
    let durability =
        args[2] == "fill"
        ? .noSync : args[2] == "bench" ? LMDBStore.Durability(rawValue: args.count > 4 ? args[4] : "full") : .full
    let store = try LMDBStore(path: args[1], options: .init(durability: durability ?? .full))
    let name = args[3]
    switch args[2] {
    case "claim", "complete":
        let record = claimRecord(name, now: clock.now())
        switch try store.claim(storeKey(name), record) {
        case .existing(let existing): print("existing \(describe(existing))")
        case .claimed where args[2] == "claim": print("claimed")
        case .claimed:
            guard args.count == 6, let status = Int(args[4]) else { return usage() }
            var done = record
            done.state = .complete
            done.response = StoredResponse(status: status, headers: [], body: Array(args[5].utf8))
            print(try store.complete(storeKey(name), token: record.token, with: done) ? "completed" : "lost")
        }
    case "get":
        print(describe(try store.record(for: storeKey(name))))
    case "claim-many":
        guard args.count == 6, let count = Int(args[4]), let startAt = Int64(args[5]) else { return usage() }
        while clock.now() < startAt { usleep(200) }
        var won = 0
        for i in 0..<count
        where try store.claim(storeKey("\(name)\(i)"), claimRecord("\(name)\(i)", now: clock.now()))
            == .claimed(previous: nil)
        {
            print("\(name)\(i)")
            won += 1
        }
        print("done \(won)")
    case "bench":
        guard let count = Int(name), count > 0 else { return usage() }
        let lookups = args.count > 5 ? Int(args[5]) ?? 100_000 : 100_000
        return try timeStore(store, label: (durability ?? .full).rawValue, count: count, lookups: lookups)
    case "fill":
        guard let count = Int(name), count > 0 else { return usage() }
        for i in 0..<count {
            let record = claimRecord("fill-\(i)", now: clock.now())
            guard try store.claim(storeKey("fill-\(i)"), record) == .claimed(previous: nil) else { continue }
            var done = record
            done.state = .complete
            done.response = StoredResponse(
                status: 201, headers: [("Content-Type", "application/json")], body: Array(#"{"id":"fill"}"#.utf8))
            _ = try store.complete(storeKey("fill-\(i)"), token: record.token, with: done)
        }
        try store.sync()
        print("filled \(count)")
    default:
        return usage()
    }
    return 0
}

func usage() -> Int32 {
    print("usage: idem-store-probe <file> claim|complete|get|claim-many|bench|fill <key> [...]")
    return 64
}

do throws(StoreError) {
    exit(try run(CommandLine.arguments))
} catch {
    print("error \(error)")
    exit(2)
}
