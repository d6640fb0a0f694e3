import HTTP

/// One configured route: inbound policies, the handler, outbound policies — the Zuplo model.
public struct RoutePipeline: Sendable {
    public let inbound: [any InboundPolicy]
    public let handler: any Handler
    public let outbound: [any OutboundPolicy]

    public init(inbound: [any InboundPolicy], handler: any Handler, outbound: [any OutboundPolicy]) {
        self.inbound = inbound
        self.handler = handler
        self.outbound = outbound
    }

    /// Runs the route. A policy or handler error becomes a problem response (a `Problem` as
    /// itself, anything else as 500); outbound policies still see that response, so a claim is
    /// released rather than left locked. `context.finish` runs last, whatever happened.
    public func run(_ request: Request, context: RequestContext, log: Logger) -> Response {
        var response: Response
        do {
            for policy in inbound {
                if let early = try policy.inbound(request, context: context) {
                    context.finish(with: early)
                    return early
                }
            }
            let start = MonotonicTime.nanoseconds()
            defer { context.handlerNanoseconds = MonotonicTime.nanoseconds() &- start }
            response = try handler.handle(request, context: context)
        } catch {
            response = Self.errorResponse(error, context: context, log: log)
        }
        do {
            for policy in outbound { try policy.outbound(&response, request: request, context: context) }
        } catch {
            response = Self.errorResponse(error, context: context, log: log)
        }
        context.finish(with: response)
        return response
    }

    static func errorResponse(_ error: any Error, context: RequestContext, log: Logger) -> Response {
        if let problem = error as? Problem { return problem.response }
        log.error("handler failed", [("route", context.route), ("error", String(describing: error))])
        return Problem(
            status: .internalServerError, type: "internal-error", title: "Internal server error",
            detail: "The request failed inside the responder; see its log."
        ).response
    }
}
