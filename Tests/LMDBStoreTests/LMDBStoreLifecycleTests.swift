import Foundation
import Idempotency
import TestSupport
import Testing

@testable import LMDBStore

@Suite struct LMDBStoreLifecycleTests {
    @Test func newFileIsOwnerOnlyWithLockFileBesideIt() throws {
        let f = try StoreFixture()
        for path in [f.path, f.path + "-lock"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(path)")
        }
    }

    @Test func closeIsIdempotentAndLaterCallsAreUnavailable() throws {
        let f = try StoreFixture()
        f.store.close()
        f.store.close()
        #expect {
            try f.store.claim(key("a"), claimRecord("a", at: f.clock.now()))
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains("closed")
        }
        #expect(throws: StoreError.self) { try f.store.record(for: key("a")) }
    }

    @Test func secondOpenOfSameFileInOneProcessIsRefused() throws {
        let f = try StoreFixture()
        #expect(throws: StoreError.self) { try LMDBStore(path: f.path) }
        // The first store is unharmed, and once it is closed the file opens again.
        _ = try f.store.claim(key("a"), claimRecord("a", at: f.clock.now()))
        try f.reopen()
        #expect(try f.store.record(for: key("a")) != nil)
    }

    @Test func fileThatIsNotLMDBIsRefusedAndLeftUnchanged() throws {
        let directory = TemporaryDirectory("idem-lmdb")
        let path = directory.file("idem.mdb")
        var random = SystemRandomNumberGenerator()
        let garbage = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(garbage)))
        #expect {
            try LMDBStore(path: path)
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains(path) && message.contains("not an LMDB file")
        }
        #expect(fileBytes(path) == garbage)
    }

    @Test func storeOfAnotherFormatIsRefusedAndLeftUnchanged() throws {
        let f = try StoreFixture()
        _ = try f.store.claim(key("a"), claimRecord("a", at: f.clock.now()))
        try f.store._putRaw(.meta, key: Array("format".utf8), value: Array("idem-lmdb-99".utf8))
        f.store.close()
        let before = fileBytes(f.path)
        #expect {
            try LMDBStore(path: f.path)
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains(f.path) && message.contains("idem-lmdb-99")
        }
        #expect(fileBytes(f.path) == before)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mdb_load")))
    func lmdbFileOfAnotherApplicationIsRefusedAndLeftUnchanged() throws {
        let directory = TemporaryDirectory("idem-lmdb")
        let path = directory.file("other.mdb")
        let input = directory.file("dump.txt")
        let dump = "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n hello\n world\nDATA=END\n"
        try dump.write(toFile: input, atomically: true, encoding: .utf8)
        let load = Process()
        load.executableURL = URL(fileURLWithPath: "/usr/bin/mdb_load")
        load.arguments = ["-n", "-f", input, path]
        try load.run()
        load.waitUntilExit()
        try #require(load.terminationStatus == 0)
        let before = fileBytes(path)
        #expect {
            try LMDBStore(path: path)
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains(path)
        }
        #expect(fileBytes(path) == before)
    }

    @Test func missingDirectoryIsUnavailableNamingThePath() throws {
        let path = "/tmp/idem-no-such-dir-\(UInt64.random(in: 0...UInt64.max))/idem.mdb"
        #expect {
            try LMDBStore(path: path)
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains(path) && message.contains("mdb_env_open")
        }
    }

    @Test func corruptValueIsNeitherReplayedNorReplaced() throws {
        let f = try StoreFixture()
        let valid = RecordCodec.encode(claimRecord("flipped", at: f.clock.now()))
        var flipped = valid
        flipped[valid.count / 2] ^= 0x01
        let plants: [(String, [UInt8])] = [("garbage", Array("not a record at all".utf8)), ("flipped", flipped)]
        for (name, bytes) in plants {
            try f.store._putRaw(.records, key: key(name).bytes, value: bytes)
            #expect(throws: StoreError.self) { try f.store.record(for: key(name)) }
            #expect {
                try f.store.claim(key(name), claimRecord(name, at: f.clock.now()))
            } throws: { error in
                guard case StoreError.corrupt(let message) = error else { return false }
                return message.contains(key(name).description)
            }
            #expect(throws: StoreError.self) {
                try f.store.complete(key(name), token: .zero, with: claimRecord(name, at: 0))
            }
            // Still corrupt, so still the planted bytes: nothing overwrote them.
            #expect {
                try f.store.record(for: key(name))
            } throws: { error in
                guard case StoreError.corrupt = error else { return false }
                return true
            }
        }
    }

    @Test func statsCountRecordsAndPages() throws {
        let f = try StoreFixture(.init(mapSizeBytes: 8 << 20))
        for i in 0..<50 { _ = try f.store.claim(key("k\(i)"), claimRecord("k\(i)", at: f.clock.now())) }
        let stats = try f.store.stats()
        #expect(stats.recordCount == 50)
        #expect(stats.mapSizeBytes == 8 << 20)
        #expect(stats.pageSize >= 4096)
        #expect(stats.usedPages > 4 && stats.usedBytes < stats.mapSizeBytes)
    }
}
