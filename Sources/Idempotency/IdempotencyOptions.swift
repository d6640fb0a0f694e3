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

    public init() {}
}

/// A set of HTTP status codes written as ranges, e.g. 200–299.
public struct StatusSet: Sendable, Equatable {
    public var ranges: [ClosedRange<Int>]
    public init(_ ranges: [ClosedRange<Int>]) { self.ranges = ranges }
    public static let success = StatusSet([200...299])
    public func contains(_ status: Int) -> Bool { ranges.contains { $0.contains(status) } }
}
