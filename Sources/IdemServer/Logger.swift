import Foundation
import Synchronization

/// The smallest honest logger: swift-log's levels, one line per event on stderr (journald
/// reads the `<N>` syslog prefix when `prefixLevels` is on), lines never interleaved.
public final class Logger: Sendable {
    public enum Level: Int, Comparable, Sendable {
        case debug = 7, info = 6, notice = 5, warning = 4, error = 3, critical = 2
        public static func < (a: Level, b: Level) -> Bool { a.rawValue > b.rawValue }
        var name: String {
            switch self {
            case .debug: return "debug"
            case .info: return "info"
            case .notice: return "notice"
            case .warning: return "warning"
            case .error: return "error"
            case .critical: return "critical"
            }
        }
    }

    private let minimum: Level
    private let lock = Mutex(())
    private let sink: @Sendable (String) -> Void

    public init(minimum: Level = .info, sink: (@Sendable (String) -> Void)? = nil) {
        self.minimum = minimum
        self.sink =
            sink ?? { line in
                var bytes = Array(line.utf8)
                bytes.append(0x0A)
                _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            }
    }

    /// Logs `message` with logfmt `fields`.
    public func log(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        guard level >= minimum else { return }
        var line = "level=\(level.name) msg=\(Self.quote(message))"
        for (k, v) in fields { line += " \(k)=\(Self.quote(v))" }
        lock.withLock { _ in sink(line) }
    }

    public func info(_ message: String, _ fields: [(String, String)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, String)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, String)] = []) { log(.error, message, fields) }

    /// logfmt quoting: bare when safe, otherwise a double-quoted string with escapes.
    static func quote(_ value: String) -> String {
        let safe =
            !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != 0x22 && $0 != 0x3D && $0 != 0x5C && $0 < 0x7F }
        if safe { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case let c where c.value < 0x20: out += "\\u{\(String(c.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
