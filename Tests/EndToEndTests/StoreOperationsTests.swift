import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// The shared store as an operator meets it: `idemctl` beside a live responder (stats, get,
/// list, purge of a running claim, sweep, verify), a damaged record or file, a store under
/// pressure through nginx, classic CGI sharing the store with FastCGI, a responder in another
/// PID namespace, and several responder processes racing on the same keys.
@Suite("End to end: store operations with idemctl, corruption, pressure, CGI and processes", .serialized)
struct StoreOperationsTests {
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    // MARK: - Helpers (private to this suite)

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var output: String { stdout + stderr }
    }

    /// Runs a binary to completion with separate stdout and stderr; kills it after `timeout`
    /// seconds (then `timedOut` is recorded as status -1).
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> Run {
        let dir = TemporaryDirectory("idem-sot-run")
        let outPath = dir.file("stdout")
        let errPath = dir.file("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let status: Int32 =
            timedOut
            ? -1
            : process.terminationReason == .uncaughtSignal
                ? 128 + process.terminationStatus
                : process.terminationStatus
        return Run(status: status, stdout: out, stderr: err + (timedOut ? "\n[killed after \(timeout) s]" : ""))
    }

    static func idemctl(_ arguments: [String]) throws -> Run {
        try run(PackagePaths.binary("idemctl"), arguments)
    }

    /// `idemctl <command> ... --state-dir <stack's> --config <stack's>`.
    static func idemctl(_ stack: IdemStack, _ arguments: [String]) throws -> Run {
        try idemctl(arguments + ["--state-dir", stack.stateDirectory, "--config", stack.configDirectory])
    }

    static func post(_ stack: IdemStack, _ path: String = "/payments", key: String, body: String = payment) throws
        -> HTTPResult
    {
        try stack.send("POST", path, headers: json + [("Idempotency-Key", key)], body: body)
    }

    /// A config directory with the shipped routes plus `routes`, and `server` as server.json.
    static func config(_ routes: [TestRoute] = [], server: String? = nil) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("idem-sot-config")
        try TestConfiguration.write(routes, to: dir.path)
        if let server {
            try server.write(toFile: dir.file("server.json"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// The number after `label` on the line of `text` that starts with it (after spaces).
    static func count(_ label: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix(label + " ") else { continue }
            return Int(trimmed.dropFirst(label.count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
        var found: [Int] = []
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                found.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    /// Sends a request on another thread; `wait()` returns its result.
    final class Background: @unchecked Sendable {
        private let result = Mutex<HTTPResult??>(nil)
        init(_ work: @escaping @Sendable () -> HTTPResult?) {
            let thread = Thread { [self] in
                let r = work()
                self.result.withLock { $0 = .some(r) }
            }
            thread.start()
        }
        func wait() -> HTTPResult? {
            while true {
                if let done = result.withLock({ $0 }) { return done }
                usleep(20_000)
            }
        }
    }

    /// One request to `idem` run as a classic CGI program.
    struct CGIAnswer {
        let status: Int32
        let head: String
        let body: [UInt8]
        let stderr: String
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    static func cgi(stateDirectory: String, key: String, body: String = payment) throws -> CGIAnswer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PackagePaths.binary("idem"))
        process.arguments = ["--config", PackagePaths.root + "/config", "--state-dir", stateDirectory]
        let bytes = Array(body.utf8)
        process.environment = [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "REQUEST_URI": "/payments",
            "SCRIPT_NAME": "/payments", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": String(bytes.count), "HTTP_IDEMPOTENCY_KEY": key, "REMOTE_ADDR": "127.0.0.1",
        ]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let out = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let separator = Array("\r\n\r\n".utf8)
        let split = occurrences(of: separator, in: out).first ?? out.count
        let head = String(decoding: out[0..<split], as: UTF8.self)
        let rest = split + 4 <= out.count ? Array(out[(split + 4)...]) : []
        return CGIAnswer(status: process.terminationStatus, head: head, body: rest, stderr: err)
    }

    // MARK: - 1. idemctl against a live store

    @Test func idemctlInspectsAndPurgesALiveStore() throws {
        let config = try Self.config([
            TestRoute(
                "post", "/slow", handler: "createPayment", handlerOptions: #"{"latencyMs": 3000}"#,
                idempotency: #"{"lockTimeoutSeconds": 60}"#)
        ])
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }

        let n = 3
        var bodies: [String: String] = [:]
        for i in 1...n {
            let r = try Self.post(stack, key: "live-\(i)")
            #expect(r.status == 201)
            bodies["live-\(i)"] = r.bodyText
            usleep(5_000)  // distinct creation times, so "newest first" is well defined
        }

        // stats, as text and as JSON.
        let stats = try Self.idemctl(stack, ["stats"])
        #expect(stats.status == 0, "\(stats.output)")
        #expect(Self.count("complete", in: stats.stdout) == n, "\(stats.stdout)")
        #expect(Self.count("in-flight", in: stats.stdout) == 0, "\(stats.stdout)")
        #expect(Self.count("records", in: stats.stdout) == n, "\(stats.stdout)")

        let statsJSON = try Self.idemctl(stack, ["stats", "--json"])
        #expect(statsJSON.status == 0, "\(statsJSON.output)")
        let parsed = try JSONParser.parse(statsJSON.stdout)
        #expect(parsed[member: "byState"]?[member: "complete"]?.integerValue == Int64(n), "\(statsJSON.stdout)")
        #expect(parsed[member: "byState"]?[member: "corrupt"]?.integerValue == 0)
        #expect(parsed[member: "records"]?.integerValue == Int64(n))
        #expect(parsed[member: "path"]?.stringValue == stack.stateDirectory + "/idem.mdb")

        // get: a known key and an unknown one.
        let get = try Self.idemctl(stack, ["get", "live-2"])
        #expect(get.status == 0, "\(get.output)")
        #expect(get.stdout.contains("key        live-2"), "\(get.stdout)")
        #expect(get.stdout.contains("response   201"), "\(get.stdout)")
        #expect(get.stdout.contains("state      complete"), "\(get.stdout)")
        #expect(get.stdout.contains("POST /payments"), "\(get.stdout)")

        let getJSON = try Self.idemctl(stack, ["get", "live-2", "--json"])
        #expect(getJSON.status == 0)
        let records = try JSONParser.parse(getJSON.stdout)
        guard case .array(let list) = records, let first = list.first else {
            Issue.record("get --json is not a non-empty array: \(getJSON.stdout)")
            return
        }
        #expect(list.count == 1)
        #expect(first[member: "key"]?.stringValue == "live-2")
        #expect(first[member: "response"]?[member: "status"]?.integerValue == 201)
        #expect(first[member: "response"]?[member: "body"]?.stringValue == bodies["live-2"])

        let unknown = try Self.idemctl(stack, ["get", "never-sent"])
        #expect(unknown.status == 1, "\(unknown.output)")
        #expect(unknown.stdout.contains("no record for key never-sent"))

        // list, newest first, limited.
        let listed = try Self.idemctl(stack, ["list", "--state", "complete", "--limit", "2"])
        #expect(listed.status == 0, "\(listed.output)")
        let lines = listed.stdout.split(separator: "\n").filter { $0.contains("key=live-") }
        #expect(lines.count == 2, "\(listed.stdout)")
        #expect(lines.allSatisfy { $0.contains("complete 201") }, "\(listed.stdout)")
        #expect(lines.first?.contains("key=live-\(n)") == true, "newest first: \(listed.stdout)")
        #expect(listed.stdout.contains("2 of \(n) records"), "\(listed.stdout)")

        // verify: every record decodes.
        let verify = try Self.idemctl(stack, ["verify"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.stdout.contains("\(n) records ok, 0 corrupt"), "\(verify.stdout)")

        // Purge of an in-flight key: the next request runs instead of 409; the first one's
        // client still gets its answer, but its completion is refused (fencing).
        let before = try stack.paymentCount()
        let first201 = Background { try? Self.post(stack, "/slow", key: "inflight-1") }
        usleep(300_000)
        let inFlight = try Self.idemctl(stack, ["get", "inflight-1"])
        #expect(inFlight.status == 0, "\(inFlight.output)")
        #expect(inFlight.stdout.contains("state      in-flight"), "\(inFlight.stdout)")
        #expect(inFlight.stdout.contains("lease      until"), "\(inFlight.stdout)")
        let purge = try Self.idemctl(stack, ["purge", "inflight-1"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.stdout.contains("1 records purged"), "\(purge.stdout)")
        #expect(try Self.idemctl(stack, ["get", "inflight-1"]).status == 1)

        let second = try Self.post(stack, "/slow", key: "inflight-1")  // while the first still runs
        #expect(second.status == 201, "\(second.bodyText)")
        #expect(second.header("X-Idempotent-Replay") == nil)
        let firstResult = first201.wait()
        #expect(firstResult?.status == 201)
        #expect(firstResult?.header("X-Idempotent-Replay") == nil)
        #expect(firstResult?.body != second.body)
        usleep(100_000)
        #expect(stack.idem.output.contains("stored=lease-lost"), "\(stack.idem.output)")
        // The second execution's response is the one stored.
        let replay = try Self.post(stack, "/slow", key: "inflight-1")
        #expect(replay.header("X-Idempotent-Replay") == "true")
        #expect(replay.body == second.body)
        #expect(try stack.paymentCount() == before + 2)

        // Purging an unknown key matches nothing.
        #expect(try Self.idemctl(stack, ["purge", "never-sent"]).status == 1)

        let sweep = try Self.idemctl(stack, ["sweep"])
        #expect(sweep.status == 0, "\(sweep.output)")
        #expect(sweep.stdout.contains("expired records deleted"), "\(sweep.stdout)")
        // Nothing had expired: every complete record is still there.
        let after = try JSONParser.parse(try Self.idemctl(stack, ["stats", "--json"]).stdout)
        #expect(after[member: "byState"]?[member: "complete"]?.integerValue == Int64(n + 1))

        // No store in the state directory: 69, naming the path.
        let empty = TemporaryDirectory("idem-sot-empty")
        let missing = try Self.idemctl(["stats", "--state-dir", empty.path, "--config", config.path])
        #expect(missing.status == 69, "\(missing.output)")
        #expect(missing.stderr.contains(empty.path + "/idem.mdb"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: empty.file("idem.mdb")))
    }

    // MARK: - 2. Corruption

    @Test func corruptRecordIsNeverReplayedAndCanBePurged() throws {
        let config = try Self.config()
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        let original = try Self.post(stack, key: "rot-1")
        #expect(original.status == 201)
        let bystander = try Self.post(stack, key: "rot-2")
        #expect(bystander.status == 201)

        let get = try Self.idemctl(stack, ["get", "rot-1", "--json"])
        #expect(get.status == 0, "\(get.output)")
        guard case .array(let list) = try JSONParser.parse(get.stdout), let record = list.first,
            let body = record[member: "response"]?[member: "body"]?.stringValue,
            let storeKey = record[member: "storeKey"]?.stringValue
        else {
            Issue.record("unexpected get --json output: \(get.stdout)")
            return
        }
        #expect(body == original.bodyText)

        // Flip one byte in the middle of every copy of the body in the file (LMDB's
        // copy-on-write may leave older copies in free pages; the live one is among them).
        stack.idem.stop()
        let path = stack.stateDirectory + "/idem.mdb"
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(body.utf8)
        let offsets = Self.occurrences(of: needle, in: file)
        #expect(!offsets.isEmpty, "the stored body is not in \(path)")
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        for offset in offsets {
            let at = offset + needle.count / 2
            try handle.seek(toOffset: UInt64(at))
            try handle.write(contentsOf: [file[at] ^ 0x01])
        }
        try handle.close()
        try stack.restartResponder()

        let retry = try Self.post(stack, key: "rot-1")
        #expect(retry.status == 503, "\(retry.bodyText)")
        #expect(retry.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect(retry.bodyText.contains("https://idem.dev/problems/idempotency-store-unavailable"), "\(retry.bodyText)")
        #expect(retry.header("Retry-After") != nil)
        #expect(!retry.bodyText.contains("pay_"))
        #expect(retry.header("X-Idempotent-Replay") == nil)
        // The other record is untouched and still replays.
        let other = try Self.post(stack, key: "rot-2")
        #expect(other.header("X-Idempotent-Replay") == "true")
        #expect(other.body == bystander.body)

        let verify = try Self.idemctl(stack, ["verify"])
        #expect(verify.status == 2, "\(verify.output)")
        #expect(verify.stdout.contains("corrupt \(storeKey)"), "\(verify.stdout)")
        #expect(verify.stdout.contains("1 records ok, 1 corrupt"), "\(verify.stdout)")
        let stats = try JSONParser.parse(try Self.idemctl(stack, ["stats", "--json"]).stdout)
        #expect(stats[member: "byState"]?[member: "corrupt"]?.integerValue == 1)

        let before = try stack.paymentCount()
        let purge = try Self.idemctl(stack, ["purge", "--store-key", storeKey])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.stdout.contains("purged store key \(storeKey)"))
        #expect(try Self.idemctl(stack, ["purge", "--store-key", storeKey]).status == 1)
        #expect(try Self.idemctl(stack, ["verify"]).status == 0)

        let fresh = try Self.post(stack, key: "rot-1")
        #expect(fresh.status == 201, "\(fresh.bodyText)")
        #expect(fresh.header("X-Idempotent-Replay") == nil)
        #expect(fresh.body != original.body)
        #expect(try stack.paymentCount() == before + 1)
    }

    /// A store file with a few records, made by CGI runs (no nginx needed).
    static func storeFile() throws -> (TemporaryDirectory, [UInt8]) {
        let state = TemporaryDirectory("idem-sot-seed")
        for i in 0..<6 {
            let answer = try cgi(stateDirectory: state.path, key: "seed-\(i)")
            #expect(answer.head.hasPrefix("Status: 201"), "\(answer.head)\n\(answer.stderr)")
        }
        return (state, [UInt8](try Data(contentsOf: URL(fileURLWithPath: state.file("idem.mdb")))))
    }

    @Test(arguments: ["truncated", "random"])
    func responderRefusesADamagedStoreFile(_ damage: String) throws {
        let (_, bytes) = try Self.storeFile()  // the seed directory goes; its bytes are copied
        #expect(bytes.count >= 8192)
        let state = TemporaryDirectory("idem-sot-damaged")
        let path = state.file("idem.mdb")
        var g = SystemRandomNumberGenerator()
        let damaged =
            damage == "truncated"
            ? Array(bytes.prefix(bytes.count / 2)) : (0..<bytes.count).map { _ in UInt8.random(in: 0...255, using: &g) }
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        let r = try Self.run(
            PackagePaths.binary("idem"),
            [
                "--config", PackagePaths.root + "/config", "--state-dir", state.path, "--listen",
                "unix:" + state.file("s.sock"),
            ], timeout: 15)
        #expect(r.status == 69, "\(damage): \(r.output)")
        #expect(r.stderr.contains(path), "\(damage): \(r.output)")
        // idemctl refuses it the same way, without touching it.
        let ctl = try Self.idemctl(["stats", "--state-dir", state.path, "--config", PackagePaths.root + "/config"])
        #expect(ctl.status == 69, "\(damage): \(ctl.output)")
        #expect(ctl.stderr.contains(path), "\(damage): \(ctl.output)")
        if damage == "random" {
            // Left unchanged for an operator to look at.
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == damaged)
        }
    }

    // MARK: - 3. Pressure through nginx

    @Test func fullStoreEvictsAndKeepsServing() throws {
        let body = String(repeating: "x", count: 2000)
        let config = try Self.config(
            [
                TestRoute(
                    "post", "/fill", handler: "staticResponse",
                    handlerOptions: #"{"status": 201, "body": "\#(body)"}"#)
            ],
            server: #"{"store": {"mapSizeMiB": 1}}"#)
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        let total = 700
        var failures: [String] = []
        let start = Date()
        for i in 0..<total {
            let r = try Self.post(stack, "/fill", key: "fill-\(i)", body: "{\"n\": \(i)}")
            if r.status != 201 || r.bodyText != body {
                failures.append("fill-\(i): \(r.status) \(r.bodyText.prefix(300))")
                if failures.count > 5 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(stack.idem.output.suffix(2000))")
        #expect(Date().timeIntervalSince(start) < 60)

        let stats = try Self.idemctl(stack, ["stats", "--json"])
        #expect(stats.status == 0, "\(stats.output)")
        let parsed = try JSONParser.parse(stats.stdout)
        let evictions = parsed[member: "evictions"]?.integerValue ?? -1
        let complete = parsed[member: "byState"]?[member: "complete"]?.integerValue ?? -1
        #expect(evictions > 0, "\(stats.stdout)")
        #expect(complete > 0 && complete < Int64(total), "\(stats.stdout)")
        #expect(complete + evictions <= Int64(total), "\(stats.stdout)")
        // The newest key is still replayed; the oldest was evicted and runs again.
        let newest = try Self.post(stack, "/fill", key: "fill-\(total - 1)", body: "{\"n\": \(total - 1)}")
        #expect(newest.header("X-Idempotent-Replay") == "true")
        #expect(try Self.idemctl(stack, ["get", "fill-0"]).status == 1)
        let oldest = try Self.post(stack, "/fill", key: "fill-0", body: "{\"n\": 0}")
        #expect(oldest.status == 201)
        #expect(oldest.header("X-Idempotent-Replay") == nil)
    }

    // MARK: - 4. CGI mode

    @Test func cgiModeSharesTheStoreWithFastCGI() throws {
        let state = TemporaryDirectory("idem-sot-cgi")
        let first = try Self.cgi(stateDirectory: state.path, key: "cgi-1")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.head.hasPrefix("Status: 201"), "\(first.head)\n\(first.stderr)")
        #expect(!first.head.contains("X-Idempotent-Replay"))
        #expect(first.bodyText.contains(#""object":"payment""#), "\(first.bodyText)")
        #expect(first.head.contains("Content-Length: \(first.body.count)"))

        let second = try Self.cgi(stateDirectory: state.path, key: "cgi-1")
        #expect(second.head.hasPrefix("Status: 201"), "\(second.head)")
        #expect(second.head.contains("X-Idempotent-Replay: true"), "\(second.head)")
        #expect(second.body == first.body)

        // Another body under the same key: 422, nothing runs.
        let changed = try Self.cgi(
            stateDirectory: state.path, key: "cgi-1", body: #"{"amount": 200, "currency": "USD"}"#)
        #expect(changed.head.hasPrefix("Status: 422"), "\(changed.head)")

        let stack = try IdemStack(stateDirectory: state.path)
        defer { stack.stop() }
        #expect(try stack.paymentCount() == 1)
        let viaNginx = try Self.post(stack, key: "cgi-1")
        #expect(viaNginx.status == 201)
        #expect(viaNginx.header("X-Idempotent-Replay") == "true")
        #expect(viaNginx.body == first.body)
        #expect(try stack.paymentCount() == 1)
    }

    // MARK: - 5. PID namespaces

    @Test func responderInAnotherPIDNamespaceIsRefused() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        #expect(try Self.post(stack, key: "ns-1").status == 201)
        let tmp = TemporaryDirectory("idem-sot-ns")
        let unshare = try #require(
            ["/usr/bin/unshare", "/bin/unshare"].first(where: FileManager.default.isExecutableFile))
        let r = try Self.run(
            unshare,
            [
                "-p", "-f", PackagePaths.binary("idem"), "--config", stack.configDirectory, "--state-dir",
                stack.stateDirectory, "--listen", "unix:" + tmp.file("b.sock"),
            ], timeout: 15)
        #expect(r.status == 69, "\(r.output)")
        #expect(r.output.contains("different PID namespace"), "\(r.output)")
        // The running stack still serves, store included.
        let replay = try Self.post(stack, key: "ns-1")
        #expect(replay.status == 201)
        #expect(replay.header("X-Idempotent-Replay") == "true")
        #expect(try Self.post(stack, key: "ns-2").status == 201)
        #expect(stack.idem.process.isRunning)
    }

    // MARK: - 6. Several responder processes

    @Test func severalProcessesRunEachKeyOnce() throws {
        let config = try Self.config(server: #"{"processes": 3}"#)
        let stack = try IdemStack(configDirectory: config.path, workers: 2)
        defer { stack.stop() }
        for _ in 0..<200 where stack.idem.output.components(separatedBy: "msg=\"idem started\"").count - 1 < 3 {
            usleep(25_000)
        }
        let log = stack.idem.output
        #expect(log.contains("supervisor started"), "\(log)")
        #expect(log.components(separatedBy: "msg=\"idem started\"").count - 1 == 3, "\(log)")

        let before = try stack.paymentCount()
        let keys = 20
        let copies = 30
        let results = Mutex<[Int: [HTTPResult?]]>([:])
        DispatchQueue.concurrentPerform(iterations: keys * copies) { i in
            let key = i % keys
            let r = try? Self.post(stack, key: "multi-\(key)")
            results.withLock { $0[key, default: []].append(r) }
        }
        #expect(try stack.paymentCount() == before + keys)
        let all = results.withLock { $0 }
        #expect(all.count == keys)
        for (key, answers) in all.sorted(by: { $0.key < $1.key }) {
            #expect(answers.count == copies)
            let created = answers.compactMap { $0 }.filter { $0.status == 201 }
            let conflicts = answers.compactMap { $0 }.filter { $0.status == 409 }
            #expect(created.count + conflicts.count == copies, "multi-\(key): \(answers.map { $0?.status ?? -1 })")
            #expect(!created.isEmpty, "multi-\(key)")
            #expect(Set(created.map(\.body)).count == 1, "multi-\(key): different bodies")
            #expect(created.filter { $0.header("X-Idempotent-Replay") == nil }.count == 1, "multi-\(key)")
            #expect(conflicts.allSatisfy { $0.bodyText.contains("request-in-progress") })
        }
        // Every key is one complete record in the shared store.
        let stats = try JSONParser.parse(try Self.idemctl(stack, ["stats", "--json"]).stdout)
        #expect(stats[member: "byState"]?[member: "complete"]?.integerValue == Int64(keys))
    }
}
