import Foundation
import JSON

/// A JSON value that knows where it came from, so every check can report file and path.
/// Handler factories use it to validate their own `options`.
public struct ConfigValue: Sendable {
    public let value: JSONValue
    public let file: String
    public let path: String

    public init(_ value: JSONValue, file: String, path: String = "$") {
        self.value = value
        self.file = file
        self.path = path
    }

    public func error(_ message: String) -> ConfigError { ConfigError(file: file, path: path, message: message) }

    private func found() -> String {
        switch value {
        case .string(let s): return "found the string \"\(s)\""
        case .number(let n): return "found the number \(n)"
        case .bool(let b): return "found \(b)"
        default: return "found \(value.kindDescription)"
        }
    }

    /// The members of an object, refusing any name not in `allowed` (typos fail loudly).
    public func members(allowed: Set<String>? = nil) throws(ConfigError) -> [(String, ConfigValue)] {
        guard case .object(let members) = value else { throw error("expected an object, \(found())") }
        return try members.map { (name, member) throws(ConfigError) in
            let child = ConfigValue(member, file: file, path: Self.join(path, name))
            if let allowed, !allowed.contains(name) {
                throw child.error(
                    "unknown member \"\(name)\"; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            return (name, child)
        }
    }

    public func member(_ name: String) throws(ConfigError) -> ConfigValue? {
        guard case .object(let members) = value else { throw error("expected an object, \(found())") }
        return members.first { $0.0 == name }.map { ConfigValue($0.1, file: file, path: Self.join(path, name)) }
    }

    public func requiredMember(_ name: String) throws(ConfigError) -> ConfigValue {
        guard let m = try member(name) else { throw error("missing required member \"\(name)\"") }
        return m
    }

    public func elements() throws(ConfigError) -> [ConfigValue] {
        guard case .array(let elements) = value else { throw error("expected an array, \(found())") }
        return elements.enumerated().map { ConfigValue($1, file: file, path: "\(path)[\($0)]") }
    }

    public func string() throws(ConfigError) -> String {
        guard case .string(let s) = value else { throw error("expected a string, \(found())") }
        return s
    }

    public func nonEmptyString() throws(ConfigError) -> String {
        let s = try string()
        guard !s.isEmpty else { throw error("expected a non-empty string") }
        return s
    }

    public func bool() throws(ConfigError) -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false, \(found())") }
        return b
    }

    public func integer(in range: ClosedRange<Int64>) throws(ConfigError) -> Int64 {
        guard case .number(let lexeme) = value, let n = Int64(lexeme) else {
            throw error("expected an integer from \(range.lowerBound) to \(range.upperBound), \(found())")
        }
        guard range.contains(n) else {
            throw error("expected an integer from \(range.lowerBound) to \(range.upperBound), found \(n)")
        }
        return n
    }

    /// `$.a.b`, or `$["x-y"]` for names that are not plain identifiers.
    static func join(_ path: String, _ name: String) -> String {
        let plain =
            !name.isEmpty
            && name.utf8.allSatisfy {
                ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95
            }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return plain ? "\(path).\(name)" : "\(path)[\"\(escaped)\"]"
    }
}
