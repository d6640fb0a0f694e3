import Configuration
import FastCGI
import Foundation
import Idempotency
import LMDBStore
import ProcessLiveness

/// What one responder process opens after start-up (and after any fork): the store, its
/// liveness lock and the routes.
struct Runtime {
    let store: any InspectableStore
    let liveness: LocalOwnerLiveness
    let application: Application
    let storePath: String

    /// Opens everything; the error message says what to do, and the exit status is its value.
    static func open(configuration: IdemConfiguration, registry: HandlerRegistry, log: Logger) -> Result<
        Runtime, RuntimeError
    > {
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
            return .failure(RuntimeError(message: "cannot open the store \(storePath): \(error)", status: 69))
        }
        do {
            let application = try Application.build(
                configuration: configuration, registry: registry, store: store,
                environment: HandlerEnvironment(stateDirectory: settings.stateDirectory), liveness: liveness, log: log)
            return .success(Runtime(store: store, liveness: liveness, application: application, storePath: storePath))
        } catch {
            return .failure(RuntimeError(message: "\(error)", status: 78))
        }
    }
}

struct RuntimeError: Error {
    let message: String
    let status: Int32
}

extension Responder {
    /// One responder process: worker threads on `socket` until SIGTERM/SIGINT, then a drain.
    /// Expects SIGTERM, SIGINT and SIGHUP to be blocked already.
    static func serve(
        configuration: IdemConfiguration, registry: HandlerRegistry, socket: ListeningSocket, log: Logger
    ) -> Int32 {
        let settings = configuration.server
        let runtime: Runtime
        switch Runtime.open(configuration: configuration, registry: registry, log: log) {
        case .success(let opened): runtime = opened
        case .failure(let error):
            printError("idem: \(error.message)\n")
            return error.status
        }
        var serverOptions = FastCGIServer.Options()
        serverOptions.workers = settings.workers
        serverOptions.maxBodyBytes = settings.maxBodyBytes
        let application = runtime.application
        let server = FastCGIServer(socket: socket, options: serverOptions) { application.respond($0) }
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

        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            if received == SIGHUP {
                log.warning("SIGHUP ignored: configuration reload is not supported yet; restart to apply changes")
                continue
            }
            break
        }
        let drain = drainSeconds(configuration)
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
}
