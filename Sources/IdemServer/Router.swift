import HTTP

/// Matches a method and path against the configured route templates.
public struct Router<Target: Sendable>: Sendable {
    public enum Match {
        case found(Target, template: String, parameters: [String: String])
        case methodNotAllowed(allowed: [Method])
        case notFound
    }

    private struct Entry: Sendable {
        let template: String
        let segments: [Segment]
        let method: Method
        let target: Target
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private var entries: [Entry] = []

    public init() {}

    public mutating func add(_ method: Method, _ template: String, _ target: Target) {
        let segments = Self.split(template).map { s -> Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
        // Literal routes win over parameter routes: /payments/export before /payments/{id}.
        let entry = Entry(template: template, segments: segments, method: method, target: target)
        let literalCount = segments.filter { if case .literal = $0 { return true } else { return false } }.count
        let index =
            entries.firstIndex { existing in
                existing.segments.filter { if case .literal = $0 { return true } else { return false } }.count
                    < literalCount
            } ?? entries.count
        entries.insert(entry, at: index)
    }

    public func match(_ method: Method, path: String) -> Match {
        // Most paths have no percent-escape: their segments are compared as they are, and only
        // bound parameters become strings.
        let raw = Self.split(path)
        let decoded: [String?]? = path.utf8.contains(UInt8(ascii: "%")) ? raw.map { Self.percentDecode($0) } : nil
        var allowed: [Method] = []
        for entry in entries where entry.segments.count == raw.count {
            guard let parameters = Self.bind(entry.segments, raw, decoded) else { continue }
            if entry.method == method || (method == .head && entry.method == .get) {
                return .found(entry.target, template: entry.template, parameters: parameters)
            }
            if !allowed.contains(entry.method) { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private static func bind(_ segments: [Segment], _ raw: [Substring], _ decoded: [String?]?) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (i, segment) in segments.enumerated() {
            let part: Substring
            if let decoded {
                guard let d = decoded[i] else { return nil }  // undecodable percent-escape
                part = Substring(d)
            } else {
                part = raw[i]
            }
            switch segment {
            case .literal(let s): if part != s { return nil }
            case .parameter(let name):
                if part.isEmpty { return nil }
                parameters[name] = String(part)
            }
        }
        return parameters
    }

    /// `/a/b/` and `/a/b` are the same route; empty interior segments are kept.
    private static func split(_ path: String) -> [Substring] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.first == "" { parts.removeFirst() }
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts
    }

    static func percentDecode(_ s: some StringProtocol) -> String? {
        guard s.contains("%") else { return String(s) }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
