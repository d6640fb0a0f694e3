import Foundation
import Idempotency

/// Owner liveness for the processes of one host, from an open-file-description lock
/// (`fcntl(F_OFD_SETLK)`) that each responder holds on its own file in `owners/`. The kernel
/// drops the lock when the process dies, however it dies (SIGKILL included), and OFD locks,
/// unlike POSIX record locks, are not released when another descriptor of the file is closed.
///
/// An owner is `machine-id:boot-id:directory:random-id`. Another machine's owner, or one
/// with another owners directory, is never declared dead (the lease decides); an owner from an
/// earlier boot of this machine always is. A bare pid is
/// never trusted: pids are reused and differ across PID namespaces.
public final class LocalOwnerLiveness: OwnerLiveness, @unchecked Sendable {
    public let owner: String
    private let directory: String
    private let machineID: String
    private let bootID: String
    private let ownerID: String
    /// The owners directory's device and inode: owners are comparable only within one.
    private let directoryID: String
    private let lockFD: Int32

    // Linux <fcntl.h> values of the OFD lock commands (glibc hides them behind _GNU_SOURCE).
    private static let getLock: Int32 = 36
    private static let setLock: Int32 = 37

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates `directory` if needed, takes this process's liveness lock, and removes the
    /// files of owners that are gone.
    public init(directory: String) throws {
        self.directory = directory
        machineID =
            Self.firstLine(of: "/etc/machine-id") ?? Self.firstLine(of: "/proc/sys/kernel/hostname") ?? "unknown"
        bootID = Self.firstLine(of: "/proc/sys/kernel/random/boot_id") ?? "unknown"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        // Another process cleaning up may see the new file before it is locked and unlink it;
        // then the lock guards a nameless inode. Check the name still leads to the locked file.
        var attempt = 0
        while true {
            attempt += 1
            let id = Self.randomID()
            let path = "\(directory)/\(id).lock"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            var lock = Self.wholeFile(F_WRLCK)
            guard fcntl(fd, Self.setLock, &lock) == 0 else {
                close(fd)
                throw Failure(description: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            var opened = stat()
            var named = stat()
            if fstat(fd, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_nlink > 0 {
                ownerID = id
                lockFD = fd
                break
            }
            close(fd)
            guard attempt < 8 else { throw Failure(description: "cannot keep a liveness file in \(directory)") }
        }
        var dir = stat()
        directoryID = stat(directory, &dir) == 0 ? "\(dir.st_dev)-\(dir.st_ino)" : "unknown"
        owner = "\(machineID):\(bootID):\(directoryID):\(ownerID)"
        let namespace = Array("pidns=\(Self.pidNamespace)\n".utf8)
        _ = namespace.withUnsafeBytes { pwrite(lockFD, $0.baseAddress, $0.count, 0) }
        if let other = checkOtherOwners() {
            throw Failure(
                description:
                    "another responder using \(directory) runs in a different PID namespace (\(other), this one "
                    + "\(Self.pidNamespace)); LMDB's locks identify processes by pid, so responders sharing a store "
                    + "must share a PID namespace: run them in one container or give each its own state directory")
        }
    }

    deinit {
        unlink("\(directory)/\(ownerID).lock")
        close(lockFD)
    }

    public func isDead(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == machineID else { return false }
        if parts[1] != bootID { return true }
        // A responder on this machine with another state directory (a second node sharing a
        // Redis or PostgreSQL store) keeps its lock elsewhere: only its lease can tell.
        guard parts[2] == directoryID else { return false }
        let id = String(parts[3])
        guard id != ownerID, !id.isEmpty, id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else { return false }
        return lockIsFree(path: "\(directory)/\(id).lock")
    }

    /// Whether nobody holds the lock on `path`; a missing file means its owner is gone.
    private func lockIsFree(path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT }
        defer { close(fd) }
        var probe = Self.wholeFile(F_WRLCK)
        guard fcntl(fd, Self.getLock, &probe) == 0 else { return false }
        guard probe.l_type == Int16(F_UNLCK) else { return false }
        unlink(path)
        return true
    }

    /// Removes the files of dead owners; returns the PID namespace of a live owner that runs
    /// in another one, if any.
    private func checkOtherOwners() -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasSuffix(".lock") && name != "\(ownerID).lock" {
            let path = "\(directory)/\(name)"
            if lockIsFree(path: path) { continue }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("pidns=") })
            else { continue }
            let namespace = String(line.dropFirst(6))
            if namespace != Self.pidNamespace { return namespace }
        }
        return nil
    }

    /// This process's PID namespace, e.g. `pid:[4026531836]`.
    static let pidNamespace: String =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "unknown"

    private static func randomID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(UInt64.random(in: 0...UInt64.max, using: &g), radix: 16) }.joined()
    }

    private static func wholeFile(_ type: Int32) -> flock {
        var lock = flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        lock.l_pid = 0
        return lock
    }

    private static func firstLine(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return line.flatMap { $0.isEmpty ? nil : $0.replacingOccurrences(of: ":", with: "-") }
    }
}
