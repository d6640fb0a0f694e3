import Configuration
import Foundation
import HTTP
import Idempotency

/// The responder's request path: route, run the pipeline, log one line. Transport-agnostic,
/// so tests drive it in-process and FastCGI drives it from the worker threads.
public final class Application: Sendable {
    let router: Router<RoutePipeline>
    let log: Logger
    /// Counts every request; answers scrapes at `metricsPath`, before routing.
    let metrics: ServerMetrics?
    let metricsPath: String?
    /// The store the routes use, for the figures a scrape reports.
    let store: (any IdempotencyStore)?

    public init(
        router: Router<RoutePipeline>, log: Logger, metrics: ServerMetrics? = nil, metricsPath: String? = nil,
        store: (any IdempotencyStore)? = nil
    ) {
        self.router = router
        self.log = log
        self.metrics = metrics
        self.metricsPath = metricsPath
        self.store = store
    }

    /// Builds the routes of `configuration` over `store`. Handler factories may throw a
    /// `ConfigError` for bad options.
    public static func build(
        configuration: IdemConfiguration, registry: HandlerRegistry, store: any IdempotencyStore,
        environment: HandlerEnvironment, clock: any WallClock = SystemClock(),
        liveness: any OwnerLiveness = LeaseOnlyLiveness(), log: Logger, metrics: ServerMetrics? = nil
    ) throws -> Application {
        var router = Router<RoutePipeline>()
        for route in configuration.routes {
            guard let factory = registry.factories[route.handlerName] else {
                throw ConfigError(
                    file: route.handlerOptions.file, path: route.handlerOptions.path,
                    message: "unknown handler \(route.handlerName)")
            }
            let handler = try factory(route.handlerOptions)(environment)
            let policy: (String) -> PolicyDefinition = { configuration.policies[$0]! }  // names validated at load
            let inbound: [any InboundPolicy] = route.inbound.map { name in
                IdempotencyInbound(options: policy(name).idempotency, store: store, clock: clock, liveness: liveness)
            }
            let outbound: [any OutboundPolicy] = route.outbound.map { _ in
                IdempotencyOutbound(clock: clock, log: { log.error($0) })
            }
            router.add(route.method, route.path, RoutePipeline(inbound: inbound, handler: handler, outbound: outbound))
        }
        return Application(
            router: router, log: log, metrics: metrics, metricsPath: configuration.server.metricsPath, store: store)
    }

    /// Answers one request and logs it.
    public func respond(_ request: Request) -> Response {
        let start = MonotonicTime.nanoseconds()
        let context: RequestContext
        let response: Response
        let scrape =
            metrics != nil && request.path == metricsPath && (request.method == .get || request.method == .head)
        if scrape, let metrics {
            context = RequestContext(route: request.path)
            context.outcome = "metrics"
            response = metrics.render(store: store)
        } else {
            (context, response) = route(request)
        }
        let elapsed = MonotonicTime.nanoseconds() &- start
        // Scrapes are logged but not counted: the counters describe the API's traffic.
        if !scrape { metrics?.record(context, elapsedNanoseconds: elapsed) }
        if log.enabled(.info) { log.emit(accessLine(request, response, context, elapsed)) }
        return response
    }

    /// The matched route's pipeline, or the 404/405 problem.
    private func route(_ request: Request) -> (RequestContext, Response) {
        switch router.match(request.method, path: request.path) {
        case .found(let pipeline, let template, let parameters):
            let context = RequestContext(route: template, pathParameters: parameters)
            return (context, pipeline.run(request, context: context, log: log))
        case .methodNotAllowed(let allowed):
            let context = RequestContext(route: "-")
            context.outcome = "no-route"
            var problem = Problem(
                status: .methodNotAllowed, type: "method-not-allowed", title: "Method not allowed",
                detail: "\(request.method) is not allowed on \(request.path).")
            problem.headers.set("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            return (context, problem.response)
        case .notFound:
            let context = RequestContext(route: "-")
            context.outcome = "no-route"
            let problem = Problem(
                status: .notFound, type: "not-found", title: "Not found", detail: "No route matches \(request.path).")
            return (context, problem.response)
        }
    }

    /// `level=info msg=request method=POST path=/payments route=/payments status=201
    /// outcome=executed duration_ms=1.234 handler_ms=0.200 store_ms=0.950 request_id=… key=…`.
    func accessLine(_ request: Request, _ response: Response, _ context: RequestContext, _ elapsed: UInt64)
        -> LogLine
    {
        var line = log.line(.info, "request")
        line.field("method", request.method.rawValue)
        line.field("path", request.path)
        line.field("route", context.route)
        line.field("status", Int(response.status.rawValue))
        line.field("outcome", context.outcome)
        line.milliseconds("duration_ms", nanoseconds: elapsed)
        if context.handlerNanoseconds > 0 { line.milliseconds("handler_ms", nanoseconds: context.handlerNanoseconds) }
        if !context.storeOperations.isEmpty { line.milliseconds("store_ms", nanoseconds: context.storeNanoseconds) }
        if let id = request.parameters["REQUEST_ID"] { line.field("request_id", id) }
        if let key = context.keyHash { line.field("key", key) }
        for (name, value) in context.logFields { line.field(name, value) }
        return line
    }
}
