import Foundation
import Idempotency
import Testing

@testable import LMDBStore

/// The store shared by two processes: this test process and `idem-store-probe`.
@Suite struct LMDBStoreTwoProcessTests {
    @Test func childSeesWhatParentCompleted() throws {
        let f = try StoreFixture()
        let claim = claimRecord("paid", at: SystemClock().now())
        _ = try f.store.claim(key("paid"), claim)
        let body = "{\"id\":\"pay_1\"}"
        #expect(
            try f.store.complete(
                key("paid"), token: claim.token, with: completed(claim, status: 201, body: Array(body.utf8))))
        #expect(try Probe.run(f.path, "get", "paid") == ["complete 201 \(body)"])
        #expect(try Probe.run(f.path, "claim", "paid") == ["existing complete 201 \(body)"])
    }

    @Test func parentSeesWhatChildClaimedBeforeExiting() throws {
        let f = try StoreFixture()
        #expect(try Probe.run(f.path, "claim", "child") == ["claimed"])
        let stored = try #require(try f.store.record(for: key("child")))
        #expect(stored.state == .inProgress)
        #expect(stored.isLive(at: SystemClock().now()))
        guard case .existing = try f.store.claim(key("child"), claimRecord("child", at: SystemClock().now())) else {
            Issue.record("the parent claimed a key the child holds")
            return
        }
        #expect(try Probe.run(f.path, "complete", "child2", "200", "ok") == ["completed"])
        #expect(try f.store.record(for: key("child2"))?.response?.body == Array("ok".utf8))
    }

    @Test func parentAndChildClaimingTheSameKeysClaimEachExactlyOnce() throws {
        let f = try StoreFixture()
        let count = 200
        let startAt = SystemClock().now() + 500
        let child = try Probe.start(f.path, "claim-many", "race", "\(count)", "\(startAt)")
        while SystemClock().now() < startAt { usleep(200) }
        var parentWon = Set<String>()
        for i in 0..<count {
            let name = "race\(i)"
            if case .claimed = try f.store.claim(key(name), claimRecord(name, at: SystemClock().now())) {
                parentWon.insert(name)
            }
        }
        let lines = try child.finish()
        #expect(lines.last == "done \(lines.count - 1)")
        let childWon = Set(lines.dropLast())
        #expect(parentWon.isDisjoint(with: childWon))
        #expect(parentWon.union(childWon) == Set((0..<count).map { "race\($0)" }))
        #expect(try f.store.stats().recordCount == count)
        print("two-process race: parent won \(parentWon.count), child won \(childWon.count)")
    }
}

/// Runs the `idem-store-probe` executable built beside this test bundle.
enum Probe {
    struct Running {
        let process: Process
        let output: Pipe

        func finish() throws -> [String] {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            try #require(
                process.terminationStatus == 0, "idem-store-probe exited \(process.terminationStatus): \(lines)")
            return lines
        }
    }

    static func run(_ arguments: String...) throws -> [String] { try start(arguments).finish() }

    static func start(_ arguments: String...) throws -> Running { try start(arguments) }

    static func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        return Running(process: process, output: output)
    }

    /// `.build/<triple>/debug/idem-store-probe`, next to `IdemPackageTests.xctest`
    /// (found through `/proc/self/exe`), else `.build/debug/` under the working directory.
    static func executable() throws -> String {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("idem-store-probe").path)
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/idem-store-probe")
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ProbeMissing(searched: candidates)
        }
        return found
    }

    struct ProbeMissing: Error, CustomStringConvertible {
        let searched: [String]
        var description: String {
            "idem-store-probe not built (run `swift build --build-tests`); looked in \(searched)"
        }
    }
}

extension LMDBStoreTwoProcessTests {
    @Test func mapGrownByAnotherProcessIsAdopted() throws {
        let f = try StoreFixture(.init(mapSizeBytes: 64 << 10, durability: .noSync))
        _ = try f.store.claim(key("small"), claimRecord("small", at: SystemClock().now()))
        // The probe opens with the default 1 GiB map and writes far more than 64 KiB.
        let lines = try Probe.run(f.path, "claim-many", "grow", "600", "0")
        #expect(lines.last == "done 600")
        let stats = try f.store.stats()
        #expect(stats.recordCount == 601)
        #expect(stats.usedBytes > 64 << 10)
        #expect(try f.store.record(for: key("grow599"))?.state == .inProgress)
        #expect(
            try f.store.claim(key("after"), claimRecord("after", at: SystemClock().now())) == .claimed(previous: nil))
    }
}
