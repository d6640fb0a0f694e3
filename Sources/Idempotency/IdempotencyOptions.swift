import HTTP

/// The knobs of the idempotency policies, with the defaults documented in the README.
public struct IdempotencyOptions: Sendable, Equatable {
    /// Request header carrying the key.
    public var headerName = "Idempotency-Key"
    /// How long a completed response is replayed.
    public var ttlSeconds: Int64 = 86_400
    /// How long a claim stays locked to its first request before a retry may take it over.
    public var lockTimeoutSeconds: Int64 = 60
    /// Methods the key applies to; on others the header is ignored.
    public var methods: Set<String> = ["POST", "PUT", "PATCH"]
    /// Whether a keyless request to the route is refused with 400.
    public var required = false
    /// Response statuses that are stored and replayed; any other status releases the claim.
    public var cacheStatuses: StatusSet = .success
    /// `Retry-After` seconds sent with 409 (in progress) and 503 (store unavailable).
    public var retryAfterSeconds: Int = 1
    /// Where the principal that scopes every key comes from.
    public var principal: PrincipalSource = .none
    /// Answer 409 "outcome unknown" instead of re-running a claim whose owner died or whose
    /// lease expired: for operations where a second execution is worse than a stuck key.
    public var strict = false
    /// How long a duplicate of a running request waits for its outcome before answering 409;
    /// 0 answers 409 at once. A waiting request holds a worker thread.
    public var waitSeconds: Int64 = 0
    /// Responses larger than this (body plus headers) are not stored; the key is recorded as
    /// "unavailable" so retries get 409 instead of running again.
    public var maxStoredBytes = 1 << 20
    /// The header that marks a replayed response.
    public var replayHeader = "X-Idempotent-Replay"
    /// Also send Stripe's `Idempotent-Replayed: true` on replays.
    public var stripeReplayHeader = false
    /// When the store cannot be reached, run the handler without protection (logged as
    /// `outcome=unprotected`) instead of answering 503. For reads-mostly routes only.
    public var failOpen = false

    public init() {}
}

/// A set of HTTP status codes written as ranges, e.g. 200–299.
public struct StatusSet: Sendable, Equatable {
    public var ranges: [ClosedRange<Int>]
    public init(_ ranges: [ClosedRange<Int>]) { self.ranges = ranges }
    public static let success = StatusSet([200...299])
    public func contains(_ status: Int) -> Bool { ranges.contains { $0.contains(status) } }
}
