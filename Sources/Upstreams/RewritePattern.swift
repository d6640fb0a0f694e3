import Foundation
import HTTP

/// The seed's `rewritePattern`: an upstream URL template such as
/// `http://127.0.0.1:8080/v2${pathname}${search}` or `http://orders.internal/items/${params.id}`.
/// Placeholders: `${pathname}` (the path as received), `${search}` (`?query`, or nothing),
/// `${params.NAME}` (a route parameter), `${query.NAME}` (a query parameter), `${method}`.
public struct RewritePattern: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case pathname
        case search
        case parameter(String)
        case query(String)
        case method
    }

    let parts: [Part]

    public struct Invalid: Error, Equatable {
        public let reason: String
    }

    public init(_ text: String) throws(Invalid) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw Invalid(reason: "unterminated ${ in \"\(text)\"")
            }
            let name = String(rest[open.upperBound..<close])
            switch name {
            case "pathname": parts.append(.pathname)
            case "search": parts.append(.search)
            case "method": parts.append(.method)
            case _ where name.hasPrefix("params.") && name.count > 7:
                parts.append(.parameter(String(name.dropFirst(7))))
            case _ where name.hasPrefix("query.") && name.count > 6: parts.append(.query(String(name.dropFirst(6))))
            default:
                throw Invalid(
                    reason:
                        "unknown placeholder ${\(name)}; expected ${pathname}, ${search}, ${method}, ${params.NAME} or ${query.NAME}"
                )
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard case .literal(let head)? = parts.first, head.hasPrefix("http://") || head.hasPrefix("https://") else {
            throw Invalid(reason: "the pattern must start with http:// or https://, found \"\(text)\"")
        }
        self.parts = parts
    }

    /// The upstream URL for `request`; values from the request are percent-encoded.
    public func url(for request: Request, parameters: [String: String]) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .pathname: out += request.path
            case .search: out += request.query.isEmpty ? "" : "?" + request.query
            case .method: out += request.method.rawValue
            case .parameter(let name): out += Self.encode(parameters[name] ?? "")
            case .query(let name): out += Self.queryValue(name, in: request.query).map(Self.encode) ?? ""
            }
        }
        return out
    }

    static func queryValue(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if kv.first.map(String.init) == name {
                let raw = kv.count > 1 ? String(kv[1]) : ""
                return (raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? raw
            }
        }
        return nil
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX.
    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
