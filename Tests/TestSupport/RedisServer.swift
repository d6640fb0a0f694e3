import Foundation
import Synchronization

/// The shared server's pid, killed when the test process exits (statics are never released).
private let sharedRedisPID = Atomic<Int32>(0)

/// A real redis-server on a loopback port for one test process or suite, with the settings
/// Idem requires (`maxmemory-policy noeviction`), no persistence, and 256 databases so that
/// parallel suites never share keys.
public final class RedisServer: @unchecked Sendable {
    public let port: UInt16
    public let directory = TemporaryDirectory("idem-redis")
    public private(set) var process: ChildProcess!
    private let lock = NSLock()
    private var nextDatabase = 1
    private var databases: [String: Int] = [:]

    /// One server for the whole test process, started on first use.
    public static let shared: RedisServer = {
        do {
            let server = try RedisServer()
            sharedRedisPID.store(server.process.process.processIdentifier, ordering: .relaxed)
            atexit { Foundation.kill(sharedRedisPID.load(ordering: .relaxed), SIGKILL) }
            return server
        } catch {
            fatalError("cannot start redis-server: \(error)")
        }
    }()

    public init() throws {
        port = HTTPClient.freePort()
        try start()
    }

    public func start() throws {
        guard
            let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(
                where: FileManager.default.isExecutableFile)
        else { throw IdemStack.StartFailure(description: "redis-server is not installed: run make deps") }
        process = try ChildProcess(
            binary,
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "256",
                "--maxmemory-policy", "noeviction", "--dir", directory.path,
            ], outputPath: directory.file("redis.log"))
        for _ in 0..<200 {
            if HTTPClient.canConnect(port: port) { return }
            usleep(25_000)
        }
        throw IdemStack.StartFailure(description: "redis-server did not start:\n\(process.output)")
    }

    /// Stops the server as an outage would (SIGKILL: no goodbye to clients).
    public func kill() {
        Foundation.kill(process.process.processIdentifier, SIGKILL)
        process.process.waitUntilExit()
    }

    /// A database number nobody else in this process uses, and its URL; the same `owner`
    /// (a state directory shared by two stacks) gets the same database.
    public func freshURL(for owner: String? = nil) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let owner, let db = databases[owner] { return "redis://127.0.0.1:\(port)/\(db)" }
        nextDatabase += 1
        if let owner { databases[owner] = nextDatabase }
        return "redis://127.0.0.1:\(port)/\(nextDatabase)"
    }

    /// A test server keeps nothing: SIGKILL ends it at once.
    deinit { kill() }
}
