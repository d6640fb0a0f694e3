import Configuration
import FastCGI

/// `idem` started per request as a classic CGI program: the same routes and the same store
/// as the FastCGI responders, one request per process. The configuration directory comes
/// from `--config`, else the `IDEM_CONFIG` environment variable, else /etc/idem.
enum CGIMode {
    static func run(configuration: IdemConfiguration, registry: HandlerRegistry, log: Logger) -> Int32 {
        let runtime: Runtime
        switch Runtime.open(configuration: configuration, registry: registry, log: log) {
        case .success(let opened): runtime = opened
        case .failure(let error):
            printError("idem: \(error.message)\n")
            // The web server shows the client a 500 for a CGI program that wrote nothing.
            return error.status
        }
        CGIRequest.serveOnce(maxBodyBytes: configuration.server.maxBodyBytes) { runtime.application.respond($0) }
        runtime.store.close()
        withExtendedLifetime(runtime.liveness) {}
        return 0
    }
}
