import Foundation
import Synchronization

/// The smallest honest logger: swift-log's levels, one logfmt line per event on stderr, lines
/// never interleaved. Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog
/// priority, `<6>`, which journald turns into the entry's level and strips.
///
/// The request path logs every request, so a line is built as bytes in one buffer: no
/// `String(format:)`, no intermediate strings per field.
public final class Logger: Sendable {
    public enum Level: Int, Comparable, Sendable {
        case debug = 7, info = 6, notice = 5, warning = 4, error = 3, critical = 2
        public static func < (a: Level, b: Level) -> Bool { a.rawValue > b.rawValue }
        public var name: String {
            switch self {
            case .debug: return "debug"
            case .info: return "info"
            case .notice: return "notice"
            case .warning: return "warning"
            case .error: return "error"
            case .critical: return "critical"
            }
        }

        /// `debug`, `info`, ... as in the configuration and `--log-level`.
        public init?(name: String) {
            let all: [Level] = [.debug, .info, .notice, .warning, .error, .critical]
            guard let level = all.first(where: { $0.name == name }) else { return nil }
            self = level
        }
    }

    public let minimum: Level
    private let prefixPriority: Bool
    private let lock = Mutex(())
    private let sink: @Sendable ([UInt8]) -> Void

    /// `prefixPriority` nil: on when stderr goes to journald (systemd sets `JOURNAL_STREAM`).
    public init(minimum: Level = .info, prefixPriority: Bool? = nil, sink: (@Sendable ([UInt8]) -> Void)? = nil) {
        self.minimum = minimum
        self.prefixPriority = prefixPriority ?? (getenv("JOURNAL_STREAM") != nil)
        self.sink =
            sink ?? { line in
                _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            }
    }

    /// Whether a line at `level` would be written; callers skip building fields otherwise.
    public func enabled(_ level: Level) -> Bool { level >= minimum }

    /// Logs `message` with logfmt `fields`.
    public func log(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        guard level >= minimum else { return }
        var line = LogLine(level: level, message: message, prefixPriority: prefixPriority)
        for (k, v) in fields { line.field(k, v) }
        emit(line)
    }

    /// Writes a line built by the caller (the access log builds its own, field by field).
    public func emit(_ line: LogLine) {
        guard line.level >= minimum else { return }
        var bytes = line.bytes
        bytes.append(0x0A)
        lock.withLock { _ in sink(bytes) }
    }

    /// A line for `level` carrying this logger's priority prefix.
    public func line(_ level: Level, _ message: String) -> LogLine {
        LogLine(level: level, message: message, prefixPriority: prefixPriority)
    }

    public func info(_ message: String, _ fields: [(String, String)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, String)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, String)] = []) { log(.error, message, fields) }

    /// logfmt quoting: bare when safe, otherwise a double-quoted string with escapes.
    static func quote(_ value: String) -> String {
        var out: [UInt8] = []
        LogLine.appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// One logfmt line under construction: `level=info msg=request key=value ...`.
public struct LogLine {
    public let level: Logger.Level
    public private(set) var bytes: [UInt8] = []

    init(level: Logger.Level, message: String, prefixPriority: Bool) {
        self.level = level
        bytes.reserveCapacity(256)
        if prefixPriority {
            bytes.append(UInt8(ascii: "<"))
            bytes.append(UInt8(ascii: "0") + UInt8(level.rawValue))
            bytes.append(UInt8(ascii: ">"))
        }
        bytes += "level=".utf8
        bytes += level.name.utf8
        bytes += " msg=".utf8
        Self.appendQuoted(message, to: &bytes)
    }

    /// ` name=value`, the value quoted when it needs to be. `name` is a literal identifier.
    public mutating func field(_ name: String, _ value: String) {
        bytes.append(0x20)
        bytes += name.utf8
        bytes.append(UInt8(ascii: "="))
        Self.appendQuoted(value, to: &bytes)
    }

    /// ` name=123`.
    public mutating func field(_ name: String, _ value: Int) {
        bytes.append(0x20)
        bytes += name.utf8
        bytes.append(UInt8(ascii: "="))
        Self.appendDecimal(UInt64(max(0, value)), to: &bytes)
    }

    /// ` name=1.234`: nanoseconds as milliseconds with three decimals.
    public mutating func milliseconds(_ name: String, nanoseconds: UInt64) {
        bytes.append(0x20)
        bytes += name.utf8
        bytes.append(UInt8(ascii: "="))
        let micros = nanoseconds / 1000
        Self.appendDecimal(micros / 1000, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        let fraction = micros % 1000
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    @inline(__always) private static func isBare(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != 0x22 && byte != 0x3D && byte != 0x5C && byte < 0x7F
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        let utf8 = value.utf8
        // Most values (routes, ids, statuses) need no quotes: one scan, one copy.
        let copied: Bool? = utf8.withContiguousStorageIfAvailable { buffer in
            guard !buffer.isEmpty, buffer.allSatisfy(isBare) else { return false }
            out.append(contentsOf: buffer)
            return true
        }
        if copied == true { return }
        if copied == nil, !utf8.isEmpty, utf8.allSatisfy(isBare) {
            out += utf8
            return
        }
        out.append(0x22)
        for byte in utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += "\\u{".utf8
                if byte >= 16 { out.append(hex[Int(byte >> 4)]) }
                out += [hex[Int(byte & 15)], UInt8(ascii: "}")]
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
