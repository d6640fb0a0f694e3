/// The business code behind a route: turns a request into a response.
/// Throwing a `Problem` answers with it; any other error becomes a 500.
public protocol Handler: Sendable {
    func handle(_ request: Request, context: RequestContext) throws -> Response
}

/// Runs before the handler. Returning a response short-circuits the route (the handler and
/// outbound policies do not run); returning nil lets the request proceed.
public protocol InboundPolicy: Sendable {
    func inbound(_ request: Request, context: RequestContext) throws -> Response?
}

/// Runs after the handler, in order, and may rewrite the response.
public protocol OutboundPolicy: Sendable {
    func outbound(_ response: inout Response, request: Request, context: RequestContext) throws
}

/// A typed slot in `RequestContext`, so policies can pass state without knowing each other.
public protocol ContextKey {
    associatedtype Value
}

/// Per-request state shared by the policies and handler of one route. Lives on one thread.
public final class RequestContext {
    /// The route template that matched, e.g. `/payments/{id}`.
    public let route: String
    /// Decoded path parameters of the matched template.
    public let pathParameters: [String: String]
    /// What happened to the request, for the access log: executed, replayed, passthrough, ...
    public var outcome: String = "passthrough"
    /// Extra `key=value` fields for the access log line.
    public var logFields: [(String, String)] = []
    /// A short hash naming the request's idempotency record (the start of its store key), for
    /// logs: the key itself never appears there.
    public var keyHash: String?
    /// Time spent in the handler and in store operations, for the access log and metrics.
    public var handlerNanoseconds: UInt64 = 0
    /// Each store operation `timeStore` ran: (operation, nanoseconds).
    public var storeOperations: [(operation: String, nanoseconds: UInt64)] = []
    public var storeNanoseconds: UInt64 { storeOperations.reduce(0) { $0 &+ $1.nanoseconds } }
    /// Why a running claim was taken over by this request (`lease-expired`, `owner-dead`), if it was.
    public var takeoverReason: String?

    /// Runs one store operation and records its time in `storeOperations`.
    public func timeStore<T, E: Error>(_ operation: String, _ body: () throws(E) -> T) throws(E) -> T {
        let start = MonotonicTime.nanoseconds()
        defer {
            storeOperations.append((operation, MonotonicTime.nanoseconds() &- start))
        }
        return try body()
    }

    private var values: [ObjectIdentifier: Any] = [:]
    private var finishers: [(Response) -> Void] = []

    public init(route: String, pathParameters: [String: String] = [:]) {
        self.route = route
        self.pathParameters = pathParameters
    }

    public subscript<K: ContextKey>(key: K.Type) -> K.Value? {
        get { values[ObjectIdentifier(key)] as? K.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// Registers work that must happen once the final response is known, whichever path
    /// produced it (a later policy short-circuiting, the handler throwing, ...).
    public func onFinish(_ body: @escaping (Response) -> Void) { finishers.append(body) }

    /// Called by the pipeline exactly once, before the response is written.
    public func finish(with response: Response) {
        let pending = finishers
        finishers = []
        for f in pending { f(response) }
    }
}
