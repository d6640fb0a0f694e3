import Foundation
import JSON

/// Where payments are recorded. Implementations must make `append` durable before returning:
/// the handler answers 201 only for a payment that will still be there after a crash.
public protocol PaymentLedger: Sendable {
    func append(_ payment: Payment) throws
    func all() throws -> [Payment]
}

/// A ledger error with the file it concerns.
public struct LedgerError: Error, CustomStringConvertible {
    public let description: String
    /// The payment's line reached the file, only its flush to disk failed: the payment exists.
    public var written = false
}

/// An append-only JSON-lines file. Every process serving the API may append to it: each
/// payment is one `write(2)` on an `O_APPEND` descriptor followed by `fdatasync`, so lines
/// never interleave and a 201 means the line is on disk. Reads scan the file, which is
/// fine for an example handler and keeps every process's view current.
public final class FileLedger: PaymentLedger, @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw LedgerError(description: "cannot open payments ledger \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    public func append(_ payment: Payment) throws {
        var line = Array((JSONWriter.string(payment.json) + "\n").utf8)
        // A line torn by an earlier crash must not swallow this payment: start on a fresh line.
        if !endsWithNewline() { line.insert(UInt8(ascii: "\n"), at: 0) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw LedgerError(description: "writing to \(path) failed: \(String(cString: strerror(errno)))")
        }
        guard fdatasync(fd) == 0 else {
            throw LedgerError(
                description: "fdatasync of \(path) failed: \(String(cString: strerror(errno)))", written: true)
        }
    }

    private func endsWithNewline() -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return true }
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { return false }
        defer { close(reader) }
        var last: UInt8 = 0
        return pread(reader, &last, 1, info.st_size - 1) == 1 && last == UInt8(ascii: "\n")
    }

    public func all() throws -> [Payment] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LedgerError(description: "cannot read payments ledger \(path)")
        }
        // A line torn by a crash mid-write is skipped, never half-read.
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            (try? JSONParser.parse(Array(line))).flatMap(Payment.init(json:))
        }
    }
}
