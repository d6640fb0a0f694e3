import Foundation

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

    public init(_ executable: String, _ arguments: [String], outputPath: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
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
    }

    public let configDirectory: String
    public let workers: Int
    private var starts = 0

    public init(configDirectory: String = PackagePaths.root + "/config", workers: Int = 4) throws {
        port = HTTPClient.freePort()
        socketPath = directory.file("idem.sock")
        stateDirectory = directory.file("state")
        self.configDirectory = configDirectory
        self.workers = workers
        try startResponder()

        let conf = Process()
        conf.executableURL = URL(fileURLWithPath: PackagePaths.root + "/scripts/nginx-conf.sh")
        conf.arguments = [directory.file("nginx"), String(port), socketPath]
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

    /// Starts the responder (again, after `restartResponder`) on the same socket and state.
    private func startResponder() throws {
        starts += 1
        idem = try ChildProcess(
            PackagePaths.binary("idem"),
            [
                "--config", configDirectory, "--listen", "unix:\(socketPath)", "--socket-mode", "0666",
                "--state-dir", stateDirectory, "--workers", String(workers),
            ], outputPath: directory.file("idem-\(starts).log"))
        let socketPath = self.socketPath
        try waitFor("the responder's socket") { FileManager.default.fileExists(atPath: socketPath) }
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
    }

    deinit { stop() }
}
