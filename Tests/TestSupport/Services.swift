import Foundation
import JSON

/// Paths of the package being tested.
public enum PackagePaths {
    /// The repository root (this file is Tests/TestSupport/Services.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A product built next to the test binary (`.build/<triple>/debug/<name>`).
    public static func binary(_ name: String) -> String {
        if let override = ProcessInfo.processInfo.environment["IDEM_BIN_DIR"] { return override + "/" + name }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Swift Testing may run from inside the .xctest bundle directory.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return root + "/.build/debug/" + name
    }
}

/// A child process the test started and will stop (SIGTERM, then SIGKILL).
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let outputPath: String

    public init(_ executable: String, _ arguments: [String], outputPath: String, standardInput: FileHandle? = nil)
        throws
    {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let standardInput { process.standardInput = standardInput }
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = out
        process.standardError = out
        self.outputPath = outputPath
        try process.run()
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { usleep(25_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A real nginx serving the shipped site file (deploy/nginx-idem.conf) in front of a real
/// Idem responder, both on loopback, for one test suite.
public final class IdemStack: @unchecked Sendable {
    public let directory = TemporaryDirectory("idem-e2e")
    public let port: UInt16
    public let socketPath: String
    public let stateDirectory: String
    public private(set) var idem: ChildProcess!
    public private(set) var nginx: ChildProcess!

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public let configDirectory: String
    public let workers: Int
    public let listen: Listen
    private var starts = 0
    private var responderPort: UInt16 = 0
    private var inheritedSocket: Int32 = -1

    /// How the responder gets its listening socket.
    public enum Listen: Sendable {
        /// `--listen unix:PATH` (the default deployment).
        case unixSocket
        /// `--listen 127.0.0.1:PORT`.
        case tcp
        /// A listening unix socket made by the test and passed as fd 0, as spawn-fcgi does.
        case inheritedStandardInput
    }

    public init(
        configDirectory: String = PackagePaths.root + "/config", workers: Int = 4, listen: Listen = .unixSocket,
        stateDirectory: String? = nil, storeGroup: String? = nil, store: JSONValue? = nil
    ) throws {
        port = HTTPClient.freePort()
        socketPath = directory.file("idem.sock")
        self.stateDirectory = stateDirectory ?? directory.file("state")
        // Stacks with the same `storeGroup` (or state directory) share one store: two nodes.
        self.configDirectory = try Self.configuration(
            configDirectory, store: store ?? TestStore.current.json(for: storeGroup ?? self.stateDirectory),
            into: directory)
        self.workers = workers
        self.listen = listen
        if listen == .tcp { responderPort = HTTPClient.freePort() }
        try startResponder()
        let upstream = listen == .tcp ? "127.0.0.1:\(responderPort)" : "unix:\(socketPath)"

        let conf = Process()
        conf.executableURL = URL(fileURLWithPath: PackagePaths.root + "/scripts/nginx-conf.sh")
        conf.arguments = [directory.file("nginx"), String(port), upstream]
        try conf.run()
        conf.waitUntilExit()
        guard conf.terminationStatus == 0 else { throw StartFailure(description: "nginx-conf.sh failed") }
        guard let nginxPath = ["/usr/sbin/nginx", "/usr/bin/nginx"].first(where: FileManager.default.isExecutableFile)
        else {
            throw StartFailure(description: "nginx is not installed: run `make deps` (apt-get install nginx)")
        }
        nginx = try ChildProcess(
            nginxPath, ["-p", directory.file("nginx"), "-c", directory.file("nginx/nginx.conf"), "-g", "daemon off;"],
            outputPath: directory.file("nginx.log"))
        let port = self.port
        try waitFor("nginx on port \(port)") {
            (try? HTTPClient.send(port: port, method: "GET", path: "/payments")) != nil
        }
    }

    /// The configuration a stack runs: `source` itself, or (when the suite runs against Redis
    /// or PostgreSQL, `IDEM_TEST_STORE`) a copy whose server.json names that store.
    static func configuration(_ source: String, store: JSONValue?, into directory: TemporaryDirectory) throws -> String
    {
        guard let store else { return source }
        let copy = directory.file("config")
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        var members: [(String, JSONValue)] = []
        if let data = FileManager.default.contents(atPath: copy + "/server.json"),
            case .object(let existing)? = try? JSONParser.parse(Array(data))
        {
            members = existing.filter { $0.0 != "store" }
        }
        members.append(("store", store))
        try JSONWriter.string(.object(members)).write(toFile: copy + "/server.json", atomically: true, encoding: .utf8)
        return copy
    }

    /// Starts the responder (again, after `restartResponder`) on the same socket and state.
    private func startResponder() throws {
        starts += 1
        var arguments = ["--config", configDirectory, "--state-dir", stateDirectory, "--workers", String(workers)]
        var standardInput: FileHandle?
        switch listen {
        case .unixSocket: arguments += ["--listen", "unix:\(socketPath)", "--socket-mode", "0666"]
        case .tcp: arguments += ["--listen", "127.0.0.1:\(responderPort)"]
        case .inheritedStandardInput:
            // One socket for the life of the stack, handed to every responder started on it,
            // as systemd's socket unit does across restarts.
            if inheritedSocket < 0 { inheritedSocket = try Self.listeningUnixSocket(at: socketPath) }
            standardInput = FileHandle(fileDescriptor: inheritedSocket, closeOnDealloc: false)
        }
        idem = try ChildProcess(
            PackagePaths.binary("idem"), arguments, outputPath: directory.file("idem-\(starts).log"),
            standardInput: standardInput)
        let (socketPath, responderPort) = (self.socketPath, self.responderPort)
        try waitFor("the responder's socket") {
            responderPort == 0
                ? HTTPClient.canConnect(unixSocket: socketPath) : HTTPClient.canConnect(port: responderPort)
        }
    }

    /// A listening unix socket, as spawn-fcgi would create before starting the responder.
    static func listeningUnixSocket(at path: String) throws -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0, Foundation.listen(fd, 128) == 0 else {
            throw StartFailure(description: "cannot create listening socket \(path): errno \(errno)")
        }
        chmod(path, 0o666)
        return fd
    }

    /// Kills the responder with SIGKILL, as a crash would, and starts a new one.
    public func crashAndRestartResponder() throws {
        kill(idem.process.processIdentifier, SIGKILL)
        idem.process.waitUntilExit()
        try startResponder()
    }

    /// Number of payments in the ledger, through `GET /payments`.
    public func paymentCount() throws -> Int {
        let list = try send("GET", "/payments")
        let text = list.bodyText
        guard let range = text.range(of: #""count":"#) else { return -1 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    /// Stops the responder with SIGTERM and starts a new one; nginx stays up.
    public func restartResponder() throws {
        idem.stop()
        try startResponder()
    }

    private func waitFor(_ what: String, _ ready: () -> Bool) throws {
        for _ in 0..<200 {
            if ready() { return }
            if idem?.process.isRunning == false || nginx?.process.isRunning == false { break }
            usleep(25_000)
        }
        throw StartFailure(
            description:
                "timed out waiting for \(what)\n--- idem ---\n\(idem?.output ?? "")\n--- nginx ---\n\(nginx?.output ?? "")"
        )
    }

    public func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil
    ) throws -> HTTPResult {
        try HTTPClient.send(port: port, method: method, path: path, headers: headers, body: Array((body ?? "").utf8))
    }

    public func stop() {
        nginx?.stop()
        idem?.stop()
        if inheritedSocket >= 0 {
            close(inheritedSocket)
            inheritedSocket = -1
        }
    }

    deinit { stop() }
}
