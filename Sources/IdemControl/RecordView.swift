import Foundation
import Idempotency
import JSON

/// How `idemctl` shows a record to a person and to a script.
enum RecordView {
    static func state(of r: IdempotencyRecord, at now: Timestamp) -> String {
        guard r.isLive(at: now) else { return "expired" }
        switch r.state {
        case .inProgress: return "in-flight"
        case .complete: return "complete"
        case .unavailable: return "unavailable"
        }
    }

    static func summary(_ r: IdempotencyRecord, now: Timestamp) -> String {
        let status = r.response.map { " \($0.status)" } ?? ""
        return
            "\(iso8601(r.createdAt))  \(state(of: r, at: now))\(status)  \(r.method) \(r.route)  key=\(r.key)"
            + (r.principal.isEmpty ? "" : "  principal=\(r.principal)")
    }

    static func text(_ r: IdempotencyRecord, storeKey: StoreKey, now: Timestamp) -> String {
        var lines = [
            "key        \(r.key)",
            "route      \(r.method) \(r.route)",
            "principal  \(r.principal.isEmpty ? "-" : r.principal)",
            "state      \(state(of: r, at: now)) (attempt \(r.attempt))",
            "created    \(iso8601(r.createdAt))",
            "expires    \(iso8601(r.expiresAt))",
        ]
        if r.state == .inProgress {
            lines.append("lease      until \(iso8601(r.leaseUntil)), owner \(r.owner.isEmpty ? "-" : r.owner)")
        }
        if let response = r.response {
            lines.append("response   \(response.status), \(bytes(response.body.count)) body")
            for (name, value) in response.headers { lines.append("           \(name): \(value)") }
        }
        lines.append("store key  \(storeKey)")
        return lines.joined(separator: "\n")
    }

    static func json(_ r: IdempotencyRecord, storeKey: StoreKey, now: Timestamp) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("key", .string(r.key)), ("method", .string(r.method)), ("route", .string(r.route)),
            ("principal", .string(r.principal)), ("state", .string(state(of: r, at: now))),
            ("attempt", .number(String(r.attempt))), ("createdAt", .string(iso8601(r.createdAt))),
            ("expiresAt", .string(iso8601(r.expiresAt))), ("leaseUntil", .string(iso8601(r.leaseUntil))),
            ("owner", .string(r.owner)), ("storeKey", .string(storeKey.description)),
        ]
        if let response = r.response {
            var body: [(String, JSONValue)] = [("status", .number(String(response.status)))]
            body.append(("headers", .array(response.headers.map { .array([.string($0.0), .string($0.1)]) })))
            if let text = String(validating: response.body, as: UTF8.self) {
                body.append(("body", .string(text)))
            } else {
                body.append(("bodyBase64", .string(Data(response.body).base64EncodedString())))
            }
            members.append(("response", .object(body)))
        }
        return .object(members)
    }

    /// `2026-12-04T21:13:40.123Z` (UTC, milliseconds).
    static func iso8601(_ t: Timestamp) -> String {
        var seconds = time_t(t / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(t % 1000)
        let millis = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
    }

    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
        return String(format: "%.1f MiB", Double(n) / Double(1 << 20))
    }
}
