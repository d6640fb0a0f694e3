import Configuration
import FastCGI
import Foundation
import HTTP
import Idempotency
import LMDBStore
import ProcessLiveness

/// The `idem` responder: load and validate the config, open the socket and the store,
/// serve with a worker pool until SIGTERM/SIGINT.
public enum Responder {
    public static let version = "0.1.0"

    public static let usage = """
        OVERVIEW: Idem FastCGI responder — idempotency keys for nginx.

        USAGE: idem [--config <dir>] [--listen <address>] [--workers <n>] [--state-dir <dir>]

        OPTIONS:
          --config <dir>        Directory with policies.json, routes.oas.json and optional
                                server.json. (default: /etc/idem)
          --listen <address>    unix:/path, /path, host:port or fd:N. (default: the socket
                                passed by systemd or spawn-fcgi, else server.json's listen)
          --socket-mode <mode>  Octal permissions of a unix socket it creates. (default: 0660)
          --workers <n>         Worker threads per process. (default: 16)
          --processes <n>       Responder processes sharing the socket and the store,
                                forked and supervised by this one. (default: 1)
          --state-dir <dir>     Where the store and the payments ledger live.
                                (default: /var/lib/idem)
          --check-config        Validate the configuration and exit.
          --version             Print the version and exit.
          -h, --help            Show help information.

        EXIT STATUS: 0 after a clean stop, 64 usage error, 78 configuration error,
        69 socket or store could not be opened.
        """

    /// Runs the responder; returns the process exit status.
    public static func main(arguments: [String], registry: HandlerRegistry = .standard) -> Int32 {
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions(
                arguments, valued: ["config", "listen", "workers", "processes", "state-dir", "socket-mode"],
                flagNames: ["help", "version", "check-config"])
        } catch {
            printError("idem: \(error)\n\(usage)\n")
            return 64
        }
        if options.flags.contains("help") {
            print(usage)
            return 0
        }
        if options.flags.contains("version") {
            print("idem \(version)")
            return 0
        }
        if let extra = options.positionals.first {
            printError("idem: unexpected argument \(extra)\n")
            return 64
        }

        // 1. Configuration, validated as a whole before anything is opened; SIGHUP reloads it
        // the same way, command-line overrides included.
        let directory = options.values["config"] ?? ProcessInfo.processInfo.environment["IDEM_CONFIG"] ?? "/etc/idem"
        let load = { () throws -> IdemConfiguration in
            var configuration = try IdemConfiguration.load(directory: directory, handlers: registry.names)
            try registry.validate(configuration)
            try applyOverrides(options, to: &configuration.server)
            return configuration
        }
        let configuration: IdemConfiguration
        do {
            configuration = try load()
        } catch {
            printError("idem: \(error)\n")
            return 78
        }
        let settings = configuration.server
        let log = Logger(minimum: Logger.Level(name: settings.logLevel) ?? .info)
        if options.flags.contains("check-config") {
            print("idem: configuration in \(configuration.directory) is valid (\(configuration.routes.count) routes)")
            return 0
        }

        // 2. A web server running us as a classic CGI program: one request, then exit.
        if CGIRequest.isCGI {
            return CGIMode.run(configuration: configuration, registry: registry, log: log)
        }

        // 3. Signals: blocked here so every thread and child process inherits the mask; the
        // main thread sigwaits.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        // 4. State directory and listening socket, before any fork.
        if let problem = prepareStateDirectory(settings.stateDirectory) {
            printError("idem: \(problem)\n")
            return 69
        }
        let address = listenAddress(options: options, settings: settings)
        let socket: ListeningSocket
        do {
            socket = try ListeningSocket.open(address)
        } catch {
            printError("idem: \(error)\n")
            return 69
        }

        // 5. Metrics in memory that the processes forked next share, so a scrape answered by
        // any of them counts all. Without them (the mapping failed) idem serves anyway.
        var metrics: ServerMetrics?
        if settings.metricsPath != nil {
            do {
                metrics = try ServerMetrics()
            } catch {
                log.warning("metrics are off: \(error)")
            }
        }

        // 6. Serve: in this process, or in `processes` children forked now, before any LMDB
        // environment or thread exists.
        if settings.processes > 1 {
            let supervisor = Supervisor(processes: settings.processes, log: log) {
                serve(
                    configuration: configuration, registry: registry, socket: socket, log: log, metrics: metrics,
                    reload: load)
            }
            let status = supervisor.run(drainSeconds: drainSeconds(configuration) + 5)
            socket.close()
            return status
        }
        let status = serve(
            configuration: configuration, registry: registry, socket: socket, log: log, metrics: metrics, reload: load)
        socket.close()
        return status
    }

    /// Creates the state directory if needed and checks this user may write in it; the message
    /// says what to do when not.
    static func prepareStateDirectory(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                return "state directory \(path) is not a directory; point --state-dir or server.json's stateDirectory "
                    + "at a directory"
            }
        } else if !makeDirectories(path) {
            let reason = String(cString: strerror(errno))
            return "cannot create state directory \(path): \(reason); create it for the service user "
                + "(systemd's StateDirectory= does) or choose another with --state-dir"
        }
        guard access(path, W_OK | X_OK) == 0 else {
            return "state directory \(path) is not writable by uid \(getuid()): \(String(cString: strerror(errno))); "
                + "chown it to the service user (systemd's StateDirectory= does) or choose another with --state-dir"
        }
        return nil
    }

    /// `mkdir -p`: false with `errno` set when a level cannot be made.
    private static func makeDirectories(_ path: String) -> Bool {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o750) != 0, errno != EEXIST { return false }
        }
        return true
    }

    /// How long a stop waits for running requests: as long as a claim's lease, which is how
    /// long the configuration lets a request take (a request cut off would run again).
    static func drainSeconds(_ configuration: IdemConfiguration) -> Int64 {
        configuration.policies.values.map(\.idempotency.lockTimeoutSeconds).max().map { max($0, 10) } ?? 10
    }

    static func applyOverrides(_ options: CommandLineOptions, to server: inout ServerSettings) throws(ConfigError) {
        if let w = options.values["workers"] {
            guard let n = Int(w), (1...1024).contains(n) else {
                throw ConfigError(
                    file: "command line", path: "--workers",
                    message: "expected an integer from 1 to 1024, found \"\(w)\"")
            }
            server.workers = n
        }
        if let p = options.values["processes"] {
            guard let n = Int(p), (1...64).contains(n) else {
                throw ConfigError(
                    file: "command line", path: "--processes",
                    message: "expected an integer from 1 to 64, found \"\(p)\"")
            }
            server.processes = n
        }
        if let dir = options.values["state-dir"] {
            server.stateDirectory = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        }
        if let mode = options.values["socket-mode"] {
            guard let m = UInt16(mode, radix: 8), m <= 0o777 else {
                throw ConfigError(
                    file: "command line", path: "--socket-mode",
                    message: "expected octal bits such as 0660, found \"\(mode)\"")
            }
            server.socketMode = m
        }
        if let listen = options.values["listen"] {
            guard ListenAddress.parse(listen) != nil else {
                throw ConfigError(
                    file: "command line", path: "--listen",
                    message: "expected unix:/path, host:port or fd:N, found \"\(listen)\"")
            }
            server.listen = listen
        }
    }

    /// An explicit --listen wins; then a socket handed over by systemd (LISTEN_FDS, fd 3) or
    /// spawn-fcgi (fd 0); then server.json.
    static func listenAddress(options: CommandLineOptions, settings: ServerSettings) -> ListenAddress {
        if let listen = options.values["listen"], let a = ListenAddress.parse(listen, socketMode: settings.socketMode) {
            return a
        }
        let env = ProcessInfo.processInfo.environment
        if let fds = env["LISTEN_FDS"].flatMap(Int.init), fds >= 1, env["LISTEN_PID"].flatMap(Int32.init) == getpid() {
            return .inherited(fd: 3)
        }
        var accepting: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, accepting == 1 { return .inherited(fd: 0) }
        return ListenAddress.parse(settings.listen ?? "", socketMode: settings.socketMode)
            ?? .unix(path: "/run/idem/idem.sock", mode: settings.socketMode)
    }

    static func storeOptions(_ s: StoreSettings) -> LMDBStore.Options {
        var o = LMDBStore.Options()
        o.mapSizeBytes = s.mapSizeMiB << 20
        switch s.durability {
        case .full: o.durability = .full
        case .metaAsync: o.durability = .metaAsync
        case .none, .periodic: o.durability = .noSync
        }
        return o
    }
}
