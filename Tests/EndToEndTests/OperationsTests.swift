import Foundation
import Synchronization
import TestSupport
import Testing

/// What an operator relies on: metrics that count exactly, a reload that never serves a broken
/// configuration or drops a request, a stop that finishes what it accepted, start-up errors
/// that say what to do.
@Suite("End to end: metrics, reload, stop and start-up errors", .serialized)
struct OperationsTests {
    static let json = [("Content-Type", "application/json")]
    static let payment = #"{"amount": 100, "currency": "USD"}"#

    /// A config directory of the test's own (so it can be broken and fixed), with a slow route.
    static func configuration(_ server: String? = nil, slowMs: Int = 600) throws -> TemporaryDirectory {
        let config = TemporaryDirectory("idem-ops-config")
        try TestConfiguration.write(
            [TestRoute("post", "/slow", handler: "createPayment", handlerOptions: #"{"latencyMs": \#(slowMs)}"#)],
            to: config.path)
        if let server { try server.write(toFile: config.file("server.json"), atomically: true, encoding: .utf8) }
        return config
    }

    /// Series → value from a text exposition (`name{labels} value` lines).
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return out
    }

    func post(_ stack: IdemStack, _ path: String = "/payments", key: String?, body: String = payment) throws
        -> HTTPResult
    {
        try stack.send(
            "POST", path, headers: Self.json + (key.map { [("Idempotency-Key", $0)] } ?? []), body: body)
    }

    func waitForLog(_ stack: IdemStack, _ text: String, count: Int = 1) -> Bool {
        for _ in 0..<200 {
            if stack.idem.output.components(separatedBy: text).count - 1 >= count { return true }
            usleep(25_000)
        }
        return false
    }

    // MARK: - Metrics

    @Test func metricsCountAScriptedSequenceExactlyAcrossProcesses() throws {
        let config = try Self.configuration(#"{"processes": 2}"#)
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        #expect(try post(stack, key: "m-1").status == 201)
        #expect(try post(stack, key: "m-1").header("X-Idempotent-Replay") == "true")
        #expect(try post(stack, key: "m-1", body: #"{"amount": 5, "currency": "USD"}"#).status == 422)
        #expect(try post(stack, key: "a, b").status == 400)
        #expect(try post(stack, key: nil).status == 201)
        #expect(try stack.send("GET", "/payments").status == 200)
        #expect(try stack.send("GET", "/nowhere").status == 404)
        // A duplicate while the first is still running: 409.
        let slow = Thread.detached { (try? self.post(stack, "/slow", key: "m-slow"))?.status ?? -1 }
        usleep(250_000)
        #expect(try post(stack, "/slow", key: "m-slow").status == 409)
        #expect(slow.join() == 201)

        // Each scrape may reach either process; both report the totals of both.
        for _ in 0..<4 {
            let scrape = try stack.send("GET", "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let s = Self.samples(scrape.bodyText)
            let requests = #"idem_requests_total{route="/payments",outcome="#
            #expect(s[requests + #""executed"}"#] == 1, "\(scrape.bodyText)")
            #expect(s[requests + #""replayed"}"#] == 1)
            #expect(s[requests + #""mismatch"}"#] == 1)
            #expect(s[requests + #""invalid-key"}"#] == 1)
            // The POST without a key, GET /payments, and IdemStack's own GET /payments when it
            // waited for nginx to come up.
            #expect(s[requests + #""passthrough"}"#] == 3)
            #expect(s[#"idem_requests_total{route="-",outcome="no-route"}"#] == 1)
            #expect(s[#"idem_requests_total{route="/slow",outcome="executed"}"#] == 1)
            #expect(s[#"idem_requests_total{route="/slow",outcome="conflict"}"#] == 1)
            // Handlers ran for: m-1, the unkeyed POST, both GET /payments (route /payments); m-slow.
            #expect(s[#"idem_handler_duration_seconds_count{route="/payments"}"#] == 4)
            #expect(s[#"idem_handler_duration_seconds_count{route="/slow"}"#] == 1)
            #expect(s[#"idem_handler_duration_seconds_bucket{route="/slow",le="0.5"}"#] == 0)
            #expect(s[#"idem_handler_duration_seconds_bucket{route="/slow",le="1"}"#] == 1)
            #expect(s[#"idem_request_duration_seconds_count{route="/payments"}"#] == 7)
            // Claims: m-1, the mismatch (read says "other body", the claim decides), m-slow and its duplicate.
            #expect(s[#"idem_store_operation_duration_seconds_count{operation="claim"}"#] == 4)
            #expect(s[#"idem_store_operation_duration_seconds_count{operation="complete"}"#] == 2)
            #expect(s[#"idem_store_operation_duration_seconds_count{operation="read"}"#] == 5)
            #expect(s["idem_store_records"] == 2)
            #expect(s["idem_metrics_dropped_updates_total"] == 0)
        }
    }

    @Test func metricsAreServedToThisHostOnly() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        #expect(try stack.send("GET", "/metrics").status == 200)
        // 127.0.0.2 is this host too, but not an address the site allows: as a remote client.
        let dir = TemporaryDirectory("idem-curl")
        let curl = try ChildProcess(
            "/usr/bin/curl",
            ["-s", "-i", "--interface", "127.0.0.2", "http://127.0.0.1:\(stack.port)/metrics"],
            outputPath: dir.file("out"))
        curl.process.waitUntilExit()
        #expect(curl.output.hasPrefix("HTTP/1.1 403"), "\(curl.output)")
        #expect(curl.output.contains("application/problem+json"))
        #expect(!curl.output.contains("idem_requests_total"))
    }

    // MARK: - Reload

    @Test func sighupWithABrokenConfigKeepsServingTheOldOneThenAFixedOneApplies() throws {
        let config = try Self.configuration()
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        #expect(try post(stack, key: "r-1").status == 201)

        try "{\"openapi\": ".write(toFile: config.file("routes.oas.json"), atomically: true, encoding: .utf8)
        kill(stack.idem.process.processIdentifier, SIGHUP)
        #expect(waitForLog(stack, "configuration reload rejected"), "\(stack.idem.output)")
        #expect(stack.idem.output.contains("\(config.path)/routes.oas.json"))
        #expect(stack.idem.process.isRunning)
        let replay = try post(stack, key: "r-1")
        #expect(replay.status == 201 && replay.header("X-Idempotent-Replay") == "true")
        #expect(try stack.send("GET", "/ping").status == 404)

        // Fixed, with one route more: applied without a restart.
        try TestConfiguration.write(
            [TestRoute("get", "/ping", handler: "staticResponse", handlerOptions: #"{"body": "pong"}"#)],
            to: config.path)
        kill(stack.idem.process.processIdentifier, SIGHUP)
        #expect(waitForLog(stack, "configuration reloaded"), "\(stack.idem.output)")
        let ping = try stack.send("GET", "/ping")
        #expect(ping.status == 200 && ping.bodyText == "pong")
        #expect(try post(stack, key: "r-1").header("X-Idempotent-Replay") == "true")
        let s = Self.samples(try stack.send("GET", "/metrics").bodyText)
        #expect(s[#"idem_config_reloads_total{result="rejected"}"#] == 1)
        #expect(s[#"idem_config_reloads_total{result="applied"}"#] == 1)
    }

    @Test func sighupOfARestartOnlySettingSaysSo() throws {
        let config = try Self.configuration()
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        try #"{"maxBodyBytes": 4096}"#.write(toFile: config.file("server.json"), atomically: true, encoding: .utf8)
        kill(stack.idem.process.processIdentifier, SIGHUP)
        #expect(waitForLog(stack, "take effect only on restart"), "\(stack.idem.output)")
        #expect(stack.idem.output.contains("settings=maxBodyBytes"))
        #expect(try post(stack, key: "w-1").status == 201)
    }

    @Test func noRequestIsDroppedWhileReloadingUnderLoad() throws {
        let config = try Self.configuration()
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        let statuses = Mutex<[Int: Int]>([:])
        let failures = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        let clients = (0..<6).map { client in
            Thread.detached { () -> Int in
                var sent = 0
                while !stop.load(ordering: .relaxed) {
                    sent += 1
                    do {
                        let r = try self.post(stack, key: "load-\(client)-\(sent)")
                        statuses.withLock { $0[r.status, default: 0] += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                return sent
            }
        }
        for _ in 0..<10 {
            usleep(150_000)
            kill(stack.idem.process.processIdentifier, SIGHUP)
        }
        #expect(waitForLog(stack, "configuration reloaded", count: 10), "\(stack.idem.output)")
        usleep(200_000)
        stop.store(true, ordering: .relaxed)
        let sent = clients.compactMap { $0.join() }.reduce(0, +)
        #expect(failures.withLock { $0 } == [])
        let counts = statuses.withLock { $0 }
        #expect(counts.keys.sorted() == [201], "\(counts)")
        #expect(counts[201] == sent)
        #expect(try stack.paymentCount() == sent)
    }

    /// nginx keeps 4 connections alive to a responder with 2 workers: with libfcgi's own loop
    /// both workers would wait on idle kept connections while new ones stall unaccepted.
    @Test func keptAliveConnectionsBeyondTheWorkerCountNeverStallARequest() throws {
        let stack = try IdemStack(workers: 2)
        defer { stack.stop() }
        let statuses = Mutex<[Int: Int]>([:])
        let failures = Mutex<[String]>([])
        let clients = (0..<8).map { client in
            Thread.detached { () -> Int in
                for i in 0..<40 {
                    do {
                        let r = try self.post(stack, key: i % 2 == 0 ? "pin-\(client)-\(i)" : nil)
                        statuses.withLock { $0[r.status, default: 0] += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                return 40
            }
        }
        #expect(clients.compactMap { $0.join() }.reduce(0, +) == 320)
        #expect(failures.withLock { $0 } == [])
        #expect(statuses.withLock { $0 } == [201: 320])
    }

    // MARK: - Stop

    @Test func sigtermUnderLoadCompletesEveryRequestItAccepted() throws {
        let config = try Self.configuration(slowMs: 300)
        let stack = try IdemStack(configDirectory: config.path)
        defer { stack.stop() }
        let answers = Mutex<[String: Int]>([:])
        let stop = Atomic<Bool>(false)
        let clients = (0..<8).map { client in
            Thread.detached { () -> Int in
                var sent = 0
                while !stop.load(ordering: .relaxed) {
                    sent += 1
                    let key = "term-\(client)-\(sent)"
                    let status = (try? self.post(stack, "/slow", key: key).status) ?? -1
                    answers.withLock { $0[key] = status }
                }
                return sent
            }
        }
        usleep(800_000)
        kill(stack.idem.process.processIdentifier, SIGTERM)
        stack.idem.process.waitUntilExit()
        stop.store(true, ordering: .relaxed)
        _ = clients.map { $0.join() }
        #expect(stack.idem.process.terminationStatus == 0, "\(stack.idem.output)")
        #expect(stack.idem.output.contains("idem stopped"))

        let all = answers.withLock { $0 }
        let done = all.filter { $0.value == 201 }.map(\.key)
        let refused = all.filter { $0.value != 201 }
        // Anything not answered 201 was refused before it ran (nginx: 503, responder down).
        #expect(refused.values.allSatisfy { $0 == 503 }, "\(refused)")
        #expect(done.count >= 8, "\(all)")
        try stack.restartResponder()
        // Every executed payment got its 201; every refused key never ran and runs now, once.
        #expect(try stack.paymentCount() == done.count)
        for key in done { #expect(try post(stack, "/slow", key: key).header("X-Idempotent-Replay") == "true") }
        for key in refused.keys.prefix(5) {
            let retry = try post(stack, "/slow", key: key)
            #expect(retry.status == 201 && retry.header("X-Idempotent-Replay") == nil, "\(key)")
        }
        #expect(try stack.paymentCount() == done.count + min(5, refused.count))
    }

    // MARK: - Start-up errors

    func start(_ arguments: [String], as user: String? = nil, binary: String = PackagePaths.binary("idem")) throws
        -> (status: Int32, output: String)
    {
        let dir = TemporaryDirectory("idem-start")
        let idem = binary
        // setpriv (util-linux) runs it as `nobody`, as a service user without the right permissions.
        let child =
            user == nil
            ? try ChildProcess(idem, arguments, outputPath: dir.file("out"))
            : try ChildProcess(
                "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", idem] + arguments,
                outputPath: dir.file("out"))
        for _ in 0..<200 where child.process.isRunning { usleep(25_000) }
        child.stop()
        return (child.process.terminationStatus, child.output)
    }

    @Test func anUnreadableStoreStopsStartUpWithOneLineSayingWhatToDo() throws {
        let state = TemporaryDirectory("idem-ops-state")
        try FileManager.default.createDirectory(atPath: state.file("idem.mdb"), withIntermediateDirectories: false)
        let r = try start([
            "--config", PackagePaths.root + "/config", "--state-dir", state.path, "--listen", state.file("s"),
        ])
        #expect(r.status == 69)
        let lines = r.output.split(separator: "\n")
        #expect(lines.count == 1, "\(r.output)")
        #expect(r.output.hasPrefix("idem: cannot open the store \(state.path)/idem.mdb"))
        #expect(r.output.contains("idemctl verify"))
    }

    @Test func aStateDirectoryTheServiceUserCannotWriteStopsStartUp() throws {
        let parent = TemporaryDirectory("idem-ops-perm")
        chmod(parent.path, 0o755)
        let state = parent.file("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        // The checkout may sit where `nobody` cannot look (a 0700 temporary clone): the binary
        // and the configuration it reads are copied next to the state directory.
        try FileManager.default.copyItem(atPath: PackagePaths.binary("idem"), toPath: parent.file("idem"))
        try FileManager.default.copyItem(atPath: PackagePaths.root + "/config", toPath: parent.file("config"))
        for file in ["config", "config/policies.json", "config/routes.oas.json", "config/server.json"] {
            chmod(parent.file(file), file == "config" ? 0o755 : 0o644)
        }
        let r = try start(
            ["--config", parent.file("config"), "--state-dir", state, "--listen", parent.file("s")], as: "nobody",
            binary: parent.file("idem"))
        #expect(r.status == 69, "\(r.output)")
        #expect(r.output.split(separator: "\n").count == 1, "\(r.output)")
        #expect(r.output.contains("state directory \(state) is not writable"))
        #expect(r.output.contains("StateDirectory="))
    }

    @Test func aMissingSocketDirectoryStopsStartUpNamingIt() throws {
        let state = TemporaryDirectory("idem-ops-state")
        let r = try start([
            "--config", PackagePaths.root + "/config", "--state-dir", state.path, "--listen",
            "unix:\(state.path)/missing/idem.sock",
        ])
        #expect(r.status == 69)
        #expect(r.output.contains("cannot create socket \(state.path)/missing/idem.sock"), "\(r.output)")
        #expect(r.output.contains("check that its directory exists and is writable"))
    }
}

extension Thread {
    /// A thread running `body`, whose result `join()` waits for.
    final class Joinable<T>: @unchecked Sendable {
        private var result: T?
        private let done = DispatchSemaphore(value: 0)
        init(_ body: @escaping @Sendable () -> T) {
            Thread.detachNewThread {
                self.result = body()
                self.done.signal()
            }
        }
        func join() -> T? {
            done.wait()
            return result
        }
    }

    static func detached<T>(_ body: @escaping @Sendable () -> T) -> Joinable<T> { Joinable(body) }
}
