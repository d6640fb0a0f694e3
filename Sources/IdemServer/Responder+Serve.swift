import Configuration
import FastCGI
import Foundation
import HTTP
import Idempotency
import LMDBStore
import ProcessLiveness
import Synchronization

/// What one responder process opens after start-up (and after any fork): the store, its
/// liveness lock and the routes.
struct Runtime {
    let store: any InspectableStore
    let liveness: LocalOwnerLiveness
    let application: Application
    let storePath: String
    /// Shared handler resources (the payments ledger), kept across reloads.
    let environment: HandlerEnvironment

    /// Opens everything; the error message says what to do, and the exit status is its value.
    static func open(
        configuration: IdemConfiguration, registry: HandlerRegistry, log: Logger, metrics: ServerMetrics? = nil
    ) -> Result<Runtime, RuntimeError> {
        let settings = configuration.server
        let storePath = StoreFactory.describe(settings)
        // Liveness first: it refuses a foreign PID namespace before LMDB's open-time reader
        // check could mistake the other namespace's pids for dead readers.
        let liveness: LocalOwnerLiveness
        do {
            liveness = try LocalOwnerLiveness(directory: settings.stateDirectory + "/owners")
        } catch {
            return .failure(RuntimeError(message: "\(error)", status: 69))
        }
        let store: any InspectableStore
        do {
            store = try StoreFactory.open(settings)
        } catch {
            return .failure(
                RuntimeError(
                    message: "cannot open the store \(storePath): \(error); \(StoreFactory.advice(settings))",
                    status: 69))
        }
        let environment = HandlerEnvironment(stateDirectory: settings.stateDirectory)
        do {
            let application = try Application.build(
                configuration: configuration, registry: registry, store: store, environment: environment,
                liveness: liveness, log: log, metrics: metrics)
            return .success(
                Runtime(
                    store: store, liveness: liveness, application: application, storePath: storePath,
                    environment: environment))
        } catch {
            return .failure(RuntimeError(message: "\(error)", status: 78))
        }
    }
}

struct RuntimeError: Error {
    let message: String
    let status: Int32
}

/// The application the workers answer with, replaced whole by a reload: a request runs on
/// the routes that were current when it arrived, to its end.
final class LiveApplication: Sendable {
    private let current: Mutex<Application>

    init(_ application: Application) { current = Mutex(application) }

    var application: Application { current.withLock { $0 } }

    func respond(_ request: Request) -> Response { application.respond(request) }

    func replace(with application: Application) { current.withLock { $0 = application } }
}

extension Responder {
    /// One responder process: worker threads on `socket` until SIGTERM/SIGINT, then a drain.
    /// SIGHUP reloads the configuration through `reload`. Expects SIGTERM, SIGINT and SIGHUP
    /// to be blocked already.
    static func serve(
        configuration: IdemConfiguration, registry: HandlerRegistry, socket: ListeningSocket, log: Logger,
        metrics: ServerMetrics?, reload: () throws -> IdemConfiguration
    ) -> Int32 {
        let settings = configuration.server
        let runtime: Runtime
        switch Runtime.open(configuration: configuration, registry: registry, log: log, metrics: metrics) {
        case .success(let opened): runtime = opened
        case .failure(let error):
            printError("idem: \(error.message)\n")
            return error.status
        }
        var serverOptions = FastCGIServer.Options()
        serverOptions.workers = settings.workers
        serverOptions.maxBodyBytes = settings.maxBodyBytes
        let live = LiveApplication(runtime.application)
        let server = FastCGIServer(socket: socket, options: serverOptions) { live.respond($0) }
        server.start()
        let sweeper = Sweeper(
            store: runtime.store, log: log, syncEverySecond: settings.store.durability == .periodic)
        sweeper.start()
        log.log(
            .notice, "idem started",
            [
                ("listen", socket.address.description), ("workers", String(settings.workers)),
                ("store", runtime.storePath), ("pid", String(getpid())),
            ])

        var current = configuration
        var log = log
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            guard received == SIGHUP else { break }
            switch reloaded(from: current, reload: reload, registry: registry, runtime: runtime, metrics: metrics) {
            case .success(let (configuration, application, ignored)):
                live.replace(with: application)
                current = configuration
                log = application.log
                metrics?.recordReload(applied: true)
                log.log(
                    .notice, "configuration reloaded",
                    [("directory", configuration.directory), ("routes", String(configuration.routes.count))])
                if !ignored.isEmpty {
                    log.warning(
                        "server.json settings that take effect only on restart changed; restart idem to apply them",
                        [("settings", ignored.joined(separator: ","))])
                }
            case .failure(let error):
                metrics?.recordReload(applied: false)
                log.error(
                    "configuration reload rejected; still serving the previous configuration",
                    [("error", error.description)])
            }
        }
        let drain = drainSeconds(current)
        log.log(
            .notice, "stopping: no new requests accepted, finishing those in progress", [("timeout_s", String(drain))])
        sweeper.stop()
        guard server.stop(timeout: Double(drain)) else {
            // Leave the store open under the still-running workers; exiting is as safe for
            // LMDB as a crash, and their claims are taken over by retries.
            log.error("requests still running after the drain timeout; exiting without them", [])
            return 1
        }
        runtime.store.close()
        withExtendedLifetime(runtime.liveness) {}
        log.log(.notice, "idem stopped")
        return 0
    }

    /// The configuration and routes a SIGHUP asks for, validated and built in full (handler
    /// options included) over the open store; any error leaves the running routes untouched.
    static func reloaded(
        from current: IdemConfiguration, reload: () throws -> IdemConfiguration,
        registry: HandlerRegistry, runtime: Runtime, metrics: ServerMetrics?
    ) -> Result<(IdemConfiguration, Application, restartOnly: [String]), ConfigError> {
        do {
            var next = try reload()
            let restartOnly = current.server.restartOnlyChanges(to: next.server)
            next.server = current.server.applyingReloadable(from: next.server)
            let log = Logger(minimum: Logger.Level(name: next.server.logLevel) ?? .info)
            let application = try Application.build(
                configuration: next, registry: registry, store: runtime.store,
                environment: runtime.environment, liveness: runtime.liveness,
                log: log, metrics: metrics)
            return .success((next, application, restartOnly))
        } catch let error as ConfigError {
            return .failure(error)
        } catch {
            return .failure(ConfigError(file: current.directory, path: "$", message: "\(error)"))
        }
    }
}
