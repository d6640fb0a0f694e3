import Foundation
import JSON
import Synchronization
import TestSupport
import Testing

/// php-fpm or the PHP site's nginx did not come up; the message carries their output.
struct PHPStartFailure: Error, CustomStringConvertible {
    let description: String
}

/// A real php-fpm (Debian's `php-fpm8.2`) in the foreground with one static pool on a unix
/// socket in `directory`, started and stopped by the test.
final class PHPFPM: @unchecked Sendable {
    static let binary = "/usr/sbin/php-fpm8.2"
    let directory: String
    let socketPath: String
    private var process: ChildProcess?
    private var starts = 0

    init(directory: String) throws {
        self.directory = directory
        socketPath = directory + "/php-fpm.sock"
        // Running as root needs `-R` and an explicit user; otherwise the pool runs as us.
        let user = getuid() == 0 ? "user = root\ngroup = root\n" : ""
        try """
        [global]
        pid = \(directory)/php-fpm.pid
        error_log = \(directory)/php-fpm-error.log
        daemonize = no

        [app]
        \(user)listen = \(socketPath)
        listen.mode = 0666
        pm = static
        pm.max_children = 4
        catch_workers_output = yes
        """.write(toFile: directory + "/php-fpm.conf", atomically: true, encoding: .utf8)
        try start()
    }

    func start() throws {
        starts += 1
        var arguments = ["-F", "-y", directory + "/php-fpm.conf", "-p", directory]
        if getuid() == 0 { arguments.insert("-R", at: 1) }
        let child = try ChildProcess(Self.binary, arguments, outputPath: directory + "/php-fpm-\(starts).out")
        process = child
        for _ in 0..<200 {
            if HTTPClient.canConnect(unixSocket: socketPath) { return }
            if !child.process.isRunning { break }
            usleep(25_000)
        }
        throw PHPStartFailure(description: "php-fpm did not start:\n\(child.output)")
    }

    func stop() {
        process?.stop()
        process = nil
    }

    deinit { stop() }
}

/// `fastcgiHandler` in front of a real PHP-FPM app, through a real nginx and responder: the
/// PHP script appends a line per execution, so the tests count how often the app ran.
@Suite("End to end: fastcgiHandler in front of PHP-FPM", .serialized)
final class PHPFPMUpstreamTests {
    let directory = TemporaryDirectory("idem-php")
    let config = TemporaryDirectory("idem-php-config")
    let php: PHPFPM
    let stack: IdemStack
    let ordersFile: String
    let json = [("Content-Type", "application/json")]

    init() throws {
        // The scripts are copied next to the sockets so nginx workers (user nobody) can read them.
        let scripts = directory.file("php")
        try FileManager.default.copyItem(atPath: PackagePaths.root + "/Tests/Fixtures/php", toPath: scripts)
        let orders = directory.file("orders.log")
        FileManager.default.createFile(atPath: orders, contents: nil)
        chmod(orders, 0o666)
        ordersFile = orders
        let fpm = try PHPFPM(directory: directory.path)
        php = fpm
        func options(_ script: String?) -> String {
            let file = script.map { #", "scriptFilename": "\#(scripts)/\#($0)""# } ?? ""
            return #"{"address": "unix:\#(fpm.socketPath)"\#(file), "params": {"ORDERS_FILE": "\#(orders)"}}"#
        }
        try TestConfiguration.write(
            [
                TestRoute("post", "/orders", handler: "fastcgiHandler", handlerOptions: options("orders.php")),
                TestRoute("post", "/fatal", handler: "fastcgiHandler", handlerOptions: options("fatal.php")),
                // No scriptFilename: nginx's SCRIPT_FILENAME (deploy/nginx-php-app.conf) picks the script.
                TestRoute(
                    "post", "/api/bench", handler: "fastcgiHandler", handlerOptions: options(nil), idempotency: nil),
            ], to: config.path)
        stack = try IdemStack(configDirectory: config.path, workers: 8)
    }

    deinit {
        stack.stop()
        php.stop()
    }

    func post(_ path: String, key: String?, body: String = #"{"sku": "book", "qty": 1}"#) throws -> HTTPResult {
        try stack.send("POST", path, headers: json + (key.map { [("Idempotency-Key", $0)] } ?? []), body: body)
    }

    /// Executions of the PHP app for `key`, from its own log file.
    func executions(_ key: String) -> Int {
        let text = (try? String(contentsOfFile: ordersFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasSuffix(" key=\(key)") }.count
    }

    func problemType(_ r: HTTPResult) -> String {
        ((try? JSONParser.parse(r.body))?[member: "type"]?.stringValue ?? "").components(separatedBy: "/").last ?? ""
    }

    @Test func firstKeyedPostRunsOnceAndTheRetryIsReplayedWithoutItsCookie() throws {
        let first = try post("/orders", key: "php-first")
        #expect(first.status == 201, "\(first.bodyText)")
        #expect(first.header("Location")?.hasPrefix("/orders/ord_") == true)
        #expect(first.header("Set-Cookie")?.hasPrefix("session=sess-ord_") == true)
        #expect(first.header("X-Idempotent-Replay") == nil)
        #expect(first.bodyText.contains(#""key":"php-first""#) && first.bodyText.contains(#""uri":"\/orders""#))
        #expect(first.bodyText.contains(#""order":{"sku":"book","qty":1}"#))
        #expect(executions("php-first") == 1)

        let retry = try post("/orders", key: "php-first")
        #expect(retry.status == 201)
        #expect(retry.header("X-Idempotent-Replay") == "true")
        #expect(retry.body == first.body)
        #expect(retry.header("Location") == first.header("Location"))
        #expect(retry.header("Set-Cookie") == nil)
        #expect(executions("php-first") == 1)
    }

    @Test func tenConcurrentDuplicatesRunThePHPAppOnce() throws {
        let statuses = Mutex<[Int]>([])
        let (stack, json) = (self.stack, self.json)
        DispatchQueue.concurrentPerform(iterations: 10) { _ in
            let r = try? stack.send(
                "POST", "/orders?sleepMs=500", headers: json + [("Idempotency-Key", "php-concurrent")],
                body: #"{"sku": "book", "qty": 1}"#)
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.filter { $0 == 201 }.count >= 1)
        #expect(seen.allSatisfy { $0 == 201 || $0 == 409 }, "\(seen)")
        #expect(executions("php-concurrent") == 1)
        let after = try post("/orders?sleepMs=500", key: "php-concurrent")
        #expect(after.status == 201 && after.header("X-Idempotent-Replay") == "true")
        #expect(executions("php-concurrent") == 1)
    }

    @Test func aPHPFatalErrorPassesThroughAs500AndIsNotStored() throws {
        let first = try post("/fatal", key: "php-fatal")
        #expect(first.status == 500)
        #expect(first.header("X-Idempotent-Replay") == nil)
        let retry = try post("/fatal", key: "php-fatal")
        #expect(retry.status == 500)
        #expect(retry.header("X-Idempotent-Replay") == nil)
        #expect(executions("php-fatal") == 2)
        // PHP-FPM reports the fatal error on the FastCGI stderr stream; Idem logs it.
        #expect(stack.idem.output.contains("PHP Fatal error"), "\(stack.idem.output.suffix(2000))")
    }

    @Test func phpFPMStoppedIs502ProblemAndTheSameKeyRunsOnceItIsBack() throws {
        php.stop()
        let down = try post("/orders", key: "php-down")
        #expect(down.status == 502)
        #expect(down.header("Content-Type") == "application/problem+json")
        #expect(problemType(down) == "upstream-unavailable")
        #expect(down.bodyText.contains(php.socketPath))
        try php.start()
        let back = try post("/orders", key: "php-down")
        #expect(back.status == 201)
        #expect(back.header("X-Idempotent-Replay") == nil)
        #expect(executions("php-down") == 1)
        #expect(try post("/orders", key: "php-down").header("X-Idempotent-Replay") == "true")
        #expect(executions("php-down") == 1)
    }

    /// deploy/nginx-php-app.conf for real: `/api/` through Idem, `*.php` straight to PHP-FPM.
    /// Prints the mean latency of each path (measured, not asserted: the machine varies).
    @Test func shippedPHPSiteRoutesApiThroughIdemAndMeasuresTheOverhead() throws {
        let site = try PHPAppSite(
            directory: directory.file("site"), root: directory.file("php"), idemSocket: stack.socketPath,
            phpSocket: php.socketPath)
        defer { site.stop() }
        let viaIdem = try site.send("/api/bench")
        #expect(viaIdem.status == 200 && viaIdem.bodyText.contains(#""uri":"\/api\/bench""#), "\(viaIdem.bodyText)")
        let direct = try site.send("/index.php")
        #expect(direct.status == 200 && direct.bodyText.contains(#""uri":"\/index.php""#), "\(direct.bodyText)")
        // /metrics is Idem's (this host only), not the app's front controller.
        let metrics = try site.send("/metrics", method: "GET")
        #expect(metrics.status == 200 && metrics.bodyText.contains("idem_requests_total"), "\(metrics.bodyText)")

        func meanMicroseconds(_ path: String) throws -> Double {
            for _ in 0..<20 { _ = try site.send(path) }
            let started = ContinuousClock.now
            for _ in 0..<200 { #expect(try site.send(path).status == 200) }
            let elapsed = ContinuousClock.now - started
            return Double(elapsed.components.seconds) * 5000 + Double(elapsed.components.attoseconds) / 2e14
        }
        let idem = try meanMicroseconds("/api/bench")
        let php = try meanMicroseconds("/index.php")
        print(
            String(
                format:
                    "fastcgiHandler overhead: nginx->Idem->php-fpm %.0f us, nginx->php-fpm %.0f us, +%.0f us per request (200 sequential POSTs, mean)",
                idem, php, idem - php))
    }
}

/// nginx serving the shipped deploy/nginx-php-app.conf on a loopback port, with its root,
/// Idem socket and PHP-FPM socket pointed at the test's.
final class PHPAppSite: @unchecked Sendable {
    let port = HTTPClient.freePort()
    let nginx: ChildProcess

    init(directory: String, root: String, idemSocket: String, phpSocket: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/snippets", withIntermediateDirectories: true)
        for file in ["fastcgi_params", "fastcgi.conf", "snippets/fastcgi-php.conf"] {
            try fm.copyItem(atPath: "/etc/nginx/" + file, toPath: directory + "/" + file)
        }
        let site = try String(contentsOfFile: PackagePaths.root + "/deploy/nginx-php-app.conf", encoding: .utf8)
            .replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
            .replacingOccurrences(of: "/var/www/app/public", with: root)
            .replacingOccurrences(of: "unix:/run/idem/idem.sock", with: "unix:" + idemSocket)
            .replacingOccurrences(of: "unix:/run/php/php8.2-fpm.sock", with: "unix:" + phpSocket)
        try site.write(toFile: directory + "/site.conf", atomically: true, encoding: .utf8)
        try """
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log stderr warn;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(directory)/body;
            fastcgi_temp_path \(directory)/fastcgi;
            proxy_temp_path \(directory)/proxy;
            uwsgi_temp_path \(directory)/uwsgi;
            scgi_temp_path \(directory)/scgi;
            include \(directory)/site.conf;
        }
        """.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        nginx = try ChildProcess(
            "/usr/sbin/nginx", ["-p", directory, "-c", directory + "/nginx.conf", "-g", "daemon off;"],
            outputPath: directory + "/nginx.out")
        for _ in 0..<200 where !HTTPClient.canConnect(port: port) {
            guard nginx.process.isRunning else { break }
            usleep(25_000)
        }
        guard HTTPClient.canConnect(port: port) else {
            throw PHPStartFailure(description: "nginx (php app site) did not start:\n\(nginx.output)")
        }
    }

    func send(_ path: String, method: String = "POST") throws -> HTTPResult {
        try HTTPClient.send(
            port: port, method: method, path: path, headers: [("Content-Type", "application/json")],
            body: Array(#"{"ping": 1}"#.utf8))
    }

    func stop() { nginx.stop() }
}
