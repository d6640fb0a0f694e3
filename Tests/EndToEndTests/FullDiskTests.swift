import Foundation
import TestSupport
import Testing

/// The store's file system runs out of space: requests fail closed with 503 (no crash, no
/// SIGBUS: the map is never written through), and service resumes when space returns.
/// Needs root to mount a small tmpfs, as CI and `make test` on a build machine have.
@Suite("End to end: a full disk", .serialized)
struct FullDiskTests {
    static func mount(_ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func fullFileSystemAnswers503AndRecoversWhenSpaceReturns() throws {
        #expect(geteuid() == 0, "mounting a tmpfs needs root (run make test as root, as CI does)")
        let disk = TemporaryDirectory("idem-fulldisk")
        let state = disk.file("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try #require(try Self.mount(["-t", "tmpfs", "-o", "size=16m", "idem-test", state]) == 0)
        defer { umount2(state, Int32(MNT_DETACH)) }
        let config = TemporaryDirectory("idem-config")
        let body = String(repeating: "x", count: 60_000)
        try TestConfiguration.write(
            [
                TestRoute(
                    "post", "/big", handler: "staticResponse", handlerOptions: #"{"status": 201, "body": "\#(body)"}"#)
            ],
            to: config.path)
        try #"{"store": {"mapSizeMiB": 64}}"#.write(
            toFile: config.file("server.json"), atomically: true, encoding: .utf8)
        let stack = try IdemStack(configDirectory: config.path, stateDirectory: state)
        defer { stack.stop() }

        var statuses: [Int] = []
        for i in 0..<400 {
            let r = try stack.send("POST", "/big", headers: [("Idempotency-Key", "disk-\(i)")], body: "{}")
            statuses.append(r.status)
            if r.status == 503 {
                #expect(r.header("Content-Type") == "application/problem+json")
                break
            }
        }
        #expect(statuses.first == 201)
        #expect(statuses.last == 503, "\(statuses) \(stack.idem.output.suffix(1500))")
        #expect(stack.idem.process.isRunning)  // no SIGBUS, no crash
        // The reserve kept room for every request that was let in: none lost its response.
        #expect(!stack.idem.output.contains("stored=failed"))

        // Space returns: the same responder serves new keys again, and old answers replay.
        try #require(try Self.mount(["-o", "remount,size=128m", state]) == 0)
        let fresh = try stack.send("POST", "/big", headers: [("Idempotency-Key", "disk-after")], body: "{}")
        #expect(fresh.status == 201)
        let replay = try stack.send("POST", "/big", headers: [("Idempotency-Key", "disk-0")], body: "{}")
        #expect(replay.header("X-Idempotent-Replay") == "true")
    }
}
