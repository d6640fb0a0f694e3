import Foundation
import TestSupport
import Testing

/// `idem` and `idemctl` as an operator runs them: exit codes and the one-line errors.
@Suite("Command line: start-up errors and check-config")
struct CommandLineTests {
    struct Run {
        let status: Int32
        let output: String
    }

    func run(_ binary: String, _ arguments: [String]) throws -> Run {
        let dir = TemporaryDirectory("idem-cli")
        let child = try ChildProcess(PackagePaths.binary(binary), arguments, outputPath: dir.file("out"))
        child.process.waitUntilExit()
        return Run(status: child.process.terminationStatus, output: child.output)
    }

    @Test func checkConfigAcceptsTheShippedConfiguration() throws {
        let r = try run("idemctl", ["check-config", "--config", PackagePaths.root + "/config"])
        #expect(r.status == 0)
        #expect(r.output.contains("is valid"))
    }

    @Test func checkConfigNamesFileAndPathOfABadHandlerOption() throws {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write(
            [TestRoute("post", "/slow", handler: "createPayment", handlerOptions: #"{"latencyMs": "fast"}"#)],
            to: config.path)
        let r = try run("idemctl", ["check-config", "--config", config.path])
        #expect(r.status == 78)
        #expect(r.output.contains("\(config.path)/routes.oas.json"))
        #expect(r.output.contains(#"$.paths["/slow"].post["x-idem-route"].handler.options.latencyMs"#))
        #expect(r.output.contains("expected an integer"))
    }

    @Test func responderRefusesToStartOnBadConfigNamingFileAndPath() throws {
        let config = TemporaryDirectory("idem-config")
        try TestConfiguration.write([], to: config.path)
        try #"{"workers": "many"}"#.write(toFile: config.file("server.json"), atomically: true, encoding: .utf8)
        let state = TemporaryDirectory("idem-state")
        let r = try run("idem", ["--config", config.path, "--state-dir", state.path, "--listen", state.file("s.sock")])
        #expect(r.status == 78)
        #expect(r.output.contains("\(config.path)/server.json: $.workers: expected an integer"))
        #expect(!FileManager.default.fileExists(atPath: state.file("s.sock")))
    }

    @Test func responderRefusesASocketInUse() throws {
        let stack = try IdemStack()
        defer { stack.stop() }
        let state = TemporaryDirectory("idem-state")
        let r = try run(
            "idem",
            ["--config", PackagePaths.root + "/config", "--state-dir", state.path, "--listen", stack.socketPath])
        #expect(r.status == 69)
        #expect(r.output.contains("in use by another process"))
        // The running responder still serves.
        #expect(try stack.send("GET", "/payments").status == 200)
    }

    @Test func usageErrorsAndHelp() throws {
        #expect(try run("idem", ["--bogus"]).status == 64)
        let help = try run("idem", ["--help"])
        #expect(help.status == 0 && help.output.contains("USAGE: idem"))
        #expect(try run("idemctl", ["frobnicate"]).status == 64)
        #expect(try run("idemctl", ["--help"]).status == 0)
    }
}
