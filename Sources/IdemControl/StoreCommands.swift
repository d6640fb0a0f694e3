import Configuration
import Foundation
import IdemServer
import Idempotency
import JSON
import LMDBStore
import PostgresStore

/// The store subcommands of `idemctl`.
enum StoreCommands {
    static func run(_ command: String, options: CommandLineOptions, configDirectory: String) -> Int32 {
        guard var settings = serverSettings(configDirectory) else { return Control.Exit.config }
        if let dir = options.values["state-dir"] { settings.stateDirectory = dir }
        let path = settings.stateDirectory + "/" + settings.store.fileName
        if settings.store.kind == "lmdb", !FileManager.default.fileExists(atPath: path) {
            printError("idemctl: no store at \(path); has idem run with this state directory? (see --state-dir)\n")
            return Control.Exit.unavailable
        }
        let store: any InspectableStore
        do {
            store = try StoreFactory.open(settings)
        } catch {
            printError("idemctl: cannot open the store: \(error)\n")
            return Control.Exit.unavailable
        }
        defer { store.close() }
        let output = Output(json: options.flags.contains("json"))
        do {
            switch command {
            case "stats": return try stats(store, where: StoreFactory.describe(settings), output)
            case "get": return try get(store, options, output)
            case "list": return try list(store, options, output)
            case "purge": return try purge(store, options, output)
            case "sweep": return try sweep(store, output)
            case "verify": return try verify(store, output)
            default: return Control.Exit.usage
            }
        } catch let error as UsageError {
            printError("idemctl: \(error.message)\n\(Control.help[command] ?? "")\n")
            return Control.Exit.usage
        } catch {
            printError("idemctl: \(error)\n")
            return Control.Exit.unavailable
        }
    }

    /// server.json of `configDirectory`, or nil after printing why it is invalid.
    static func serverSettings(_ configDirectory: String) -> ServerSettings? {
        do {
            return try IdemConfiguration.loadServerSettings(directory: configDirectory)
        } catch {
            printError("idemctl: \(error)\n")
            return nil
        }
    }

    /// `idemctl migrate`: the PostgreSQL schema; nothing to do for the other stores.
    static func migrate(configDirectory: String) -> Int32 {
        guard let settings = serverSettings(configDirectory) else { return Control.Exit.config }
        guard settings.store.kind == "postgres", let connection = settings.store.connection else {
            print("idemctl: store kind \(settings.store.kind) needs no migration")
            return Control.Exit.ok
        }
        do {
            try PostgresStore.migrate(connection: connection)
            print("idemctl: PostgreSQL schema is at version \(PostgresStore.schemaVersion)")
            return Control.Exit.ok
        } catch {
            printError("idemctl: migrate: \(error)\n")
            return Control.Exit.unavailable
        }
    }

    struct UsageError: Error {
        let message: String
    }

    static func stats(_ store: any InspectableStore, where location: String, _ out: Output) throws -> Int32 {
        let now = SystemClock().now()
        var counts: [String: Int] = ["in-flight": 0, "complete": 0, "unavailable": 0, "expired": 0, "corrupt": 0]
        var oldest: Timestamp?
        var newest: Timestamp?
        try store.forEachRecord { _, result in
            switch result {
            case .failure: counts["corrupt", default: 0] += 1
            case .success(let record):
                counts[RecordView.state(of: record, at: now), default: 0] += 1
                oldest = min(oldest ?? record.createdAt, record.createdAt)
                newest = max(newest ?? record.createdAt, record.createdAt)
            }
            return true
        }
        // The map, file and eviction figures exist only for the LMDB file.
        let file = try (store as? LMDBStore)?.stats()
        let order = ["in-flight", "complete", "unavailable", "expired", "corrupt"]
        let total = counts.values.reduce(0, +)
        if out.json {
            var members: [(String, JSONValue)] = [
                ("path", .string(location)), ("records", .number(String(total))),
                ("byState", .object(order.map { ($0, .number(String(counts[$0] ?? 0))) })),
            ]
            if let file {
                members += [
                    ("mapBytes", .number(String(file.mapSizeBytes))), ("usedBytes", .number(String(file.usedBytes))),
                    ("freeBytes", .number(String(file.freeBytes))), ("evictions", .number(String(file.evictions))),
                ]
            }
            members += [
                ("oldest", oldest.map { .string(RecordView.iso8601($0)) } ?? .null),
                ("newest", newest.map { .string(RecordView.iso8601($0)) } ?? .null),
            ]
            out.emit(.object(members))
        } else {
            out.line("store        \(location)")
            out.line("records      \(total)")
            for state in order {
                out.line("  \(state.padding(toLength: 13, withPad: " ", startingAt: 0))\(counts[state] ?? 0)")
            }
            if let file {
                out.line("map          \(RecordView.bytes(file.mapSizeBytes))")
                out.line("file in use  \(RecordView.bytes(file.usedBytes))")
                out.line("free         \(RecordView.bytes(file.freeBytes))")
                out.line("evictions    \(file.evictions)")
            }
            out.line("oldest       \(oldest.map(RecordView.iso8601) ?? "-")")
            out.line("newest       \(newest.map(RecordView.iso8601) ?? "-")")
        }
        return Control.Exit.ok
    }

    /// Records whose key is one of `keys`, narrowed by --principal, --route and --method.
    static func matching(_ store: any InspectableStore, keys: Set<String>, _ options: CommandLineOptions) throws
        -> [(StoreKey, IdempotencyRecord)]
    {
        var found: [(StoreKey, IdempotencyRecord)] = []
        try store.forEachRecord { storeKey, result in
            guard case .success(let r) = result, keys.contains(r.key) else { return true }
            if let p = options.values["principal"], r.principal != p { return true }
            if let route = options.values["route"], r.route != route { return true }
            if let m = options.values["method"], r.method != m.uppercased() { return true }
            found.append((storeKey, r))
            return true
        }
        return found
    }

    static func get(_ store: any InspectableStore, _ options: CommandLineOptions, _ out: Output) throws -> Int32 {
        guard options.positionals.count == 2 else { throw UsageError(message: "get takes exactly one key") }
        let found = try matching(store, keys: [options.positionals[1]], options)
        let now = SystemClock().now()
        if out.json {
            out.emit(.array(found.map { RecordView.json($0.1, storeKey: $0.0, now: now) }))
        } else if found.isEmpty {
            out.line("no record for key \(options.positionals[1])")
        } else {
            for (storeKey, record) in found { out.block(RecordView.text(record, storeKey: storeKey, now: now)) }
        }
        return found.isEmpty ? Control.Exit.notFound : Control.Exit.ok
    }

    static func list(_ store: any InspectableStore, _ options: CommandLineOptions, _ out: Output) throws -> Int32 {
        let limitText = options.values["limit"] ?? "50"
        guard let limit = Int(limitText), limit > 0 else {
            throw UsageError(message: "--limit expects a positive integer, found \(limitText)")
        }
        let wanted = options.values["state"]
        if let wanted, !["in-flight", "complete", "unavailable", "expired"].contains(wanted) {
            throw UsageError(message: "--state expects in-flight, complete, unavailable or expired, found \(wanted)")
        }
        let now = SystemClock().now()
        var records: [(StoreKey, IdempotencyRecord)] = []
        try store.forEachRecord { storeKey, result in
            if case .success(let r) = result, wanted == nil || RecordView.state(of: r, at: now) == wanted {
                records.append((storeKey, r))
            }
            return true
        }
        records.sort { $0.1.createdAt > $1.1.createdAt }
        let shown = records.prefix(limit)
        if out.json {
            out.emit(.array(shown.map { RecordView.json($0.1, storeKey: $0.0, now: now) }))
        } else {
            for (_, r) in shown { out.line(RecordView.summary(r, now: now)) }
            out.line("\(shown.count) of \(records.count) records")
        }
        return Control.Exit.ok
    }

    static func purge(_ store: any InspectableStore, _ options: CommandLineOptions, _ out: Output) throws -> Int32 {
        let keys = Array(options.positionals.dropFirst())
        if let hex = options.values["store-key"] {
            // A record too damaged to decode is known only by its store key (from `verify`).
            guard let bytes = hexBytes(hex) else { throw UsageError(message: "--store-key expects hex, found \(hex)") }
            let removed = try store.purge(StoreKey(bytes: bytes))
            out.line(removed ? "purged store key \(hex)" : "no record under store key \(hex)")
            return removed ? Control.Exit.ok : Control.Exit.notFound
        }
        guard !keys.isEmpty else { throw UsageError(message: "purge takes one or more keys") }
        var purged: [(StoreKey, IdempotencyRecord)] = []
        for (storeKey, record) in try matching(store, keys: Set(keys), options) where try store.purge(storeKey) {
            purged.append((storeKey, record))
        }
        if out.json {
            out.emit(.object([("purged", .number(String(purged.count)))]))
        } else {
            for (_, r) in purged { out.line("purged \(RecordView.summary(r, now: SystemClock().now()))") }
            out.line("\(purged.count) records purged")
        }
        return purged.isEmpty ? Control.Exit.notFound : Control.Exit.ok
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0, !chars.isEmpty else { return nil }
        return stride(from: 0, to: chars.count, by: 2).compactMap {
            UInt8(String(decoding: chars[$0..<($0 + 2)], as: UTF8.self), radix: 16)
        }.count == chars.count / 2
            ? stride(from: 0, to: chars.count, by: 2).map {
                UInt8(String(decoding: chars[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
            } : nil
    }

    static func sweep(_ store: any InspectableStore, _ out: Output) throws -> Int32 {
        let deleted = try store.sweep(now: SystemClock().now(), limit: Int.max)
        if out.json {
            out.emit(.object([("deleted", .number(String(deleted)))]))
        } else {
            out.line("\(deleted) expired records deleted")
        }
        return Control.Exit.ok
    }

    static func verify(_ store: any InspectableStore, _ out: Output) throws -> Int32 {
        var good = 0
        var bad: [(StoreKey, String)] = []
        try store.forEachRecord { storeKey, result in
            switch result {
            case .success: good += 1
            case .failure(let error): bad.append((storeKey, error.description))
            }
            return true
        }
        if out.json {
            out.emit(
                .object([
                    ("ok", .number(String(good))),
                    (
                        "corrupt",
                        .array(
                            bad.map { .object([("storeKey", .string($0.0.description)), ("error", .string($0.1))]) })
                    ),
                ]))
        } else {
            for (storeKey, error) in bad { out.line("corrupt \(storeKey): \(error)") }
            out.line("\(good) records ok, \(bad.count) corrupt")
            if !bad.isEmpty { out.line("corrupt records are never replayed; remove them with idemctl purge") }
        }
        return bad.isEmpty ? Control.Exit.ok : Control.Exit.corrupt
    }
}

/// Where command output goes: text lines, or one JSON document.
struct Output {
    let json: Bool
    func line(_ text: String) { print(text) }
    func block(_ text: String) { print(text + "\n") }
    func emit(_ value: JSONValue) { print(JSONWriter.string(value)) }
}
