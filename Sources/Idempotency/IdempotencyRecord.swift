import Digest
import HTTP

/// The random token that proves which attempt holds a claim; completion is fenced by it.
public struct ClaimToken: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public static func random() -> ClaimToken {
        var g = SystemRandomNumberGenerator()
        return ClaimToken(bytes: (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &g) })
    }
    public static let zero = ClaimToken(bytes: [UInt8](repeating: 0, count: byteCount))
    public var description: String { Hex.encode(bytes) }
}

/// A response as stored for replay.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: StoredResponse, rhs: StoredResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// One key's entry in a store. Expiry is computed from `expiresAt`, never stored as a state.
public struct IdempotencyRecord: Sendable, Equatable {
    public enum State: UInt8, Sendable {
        /// Claimed: a request with this key is running (or its owner died before finishing).
        case inProgress = 1
        /// Finished: `response` is replayed to every retry until `expiresAt`.
        case complete = 2
        /// Finished, but the response was too large to keep (`maxStoredBytes`): retries get
        /// 409 until `expiresAt`, never a second execution.
        case unavailable = 3
    }

    public var state: State
    public var fingerprint: Fingerprint
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    /// Until when the claim's owner is presumed alive; meaningful while in progress.
    public var leaseUntil: Timestamp
    public var token: ClaimToken
    /// 1 for the first execution, +1 for each takeover of an abandoned claim.
    public var attempt: UInt32
    /// The process holding the claim (`OwnerIdentity`), so a retry can tell a dead owner
    /// from a slow one; empty when unknown.
    public var owner: String
    public var response: StoredResponse?
    /// The scope in clear, for operators (`idemctl`); the store key is its hash.
    public var principal: String
    public var method: String
    public var route: String
    public var key: String

    public init(
        state: State, fingerprint: Fingerprint, createdAt: Timestamp, expiresAt: Timestamp, leaseUntil: Timestamp,
        token: ClaimToken, attempt: UInt32, response: StoredResponse?, scope: Scope, owner: String = ""
    ) {
        self.owner = owner
        self.state = state
        self.fingerprint = fingerprint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.leaseUntil = leaseUntil
        self.token = token
        self.attempt = attempt
        self.response = response
        self.principal = scope.principal
        self.method = scope.method
        self.route = scope.route
        self.key = scope.key.value
    }

    /// Whether this record still decides what happens to its key at `now`. After
    /// `expiresAt` the key is new again, whatever state the record was in.
    public func isLive(at now: Timestamp) -> Bool { expiresAt > now }

    /// Whether an in-progress claim's owner is presumed gone: its lease ran out.
    public func leaseExpired(at now: Timestamp) -> Bool { state == .inProgress && leaseUntil <= now }
}
