import HTTP

/// Why an exchange with a FastCGI server failed, in the three outcomes a client can act on.
/// None of them is stored by the idempotency policy (5xx): the claim is released and a retry
/// runs the request again.
public struct FastCGIClientError: Error, Equatable, Sendable, CustomStringConvertible {
    public typealias Kind = UpstreamFailure

    public let kind: Kind
    public let message: String

    public var description: String { "\(kind): \(message)" }

    static func unavailable(_ message: String) -> Self { Self(kind: .unavailable, message: message) }
    static func timeout(_ message: String) -> Self { Self(kind: .timeout, message: message) }
    static func badResponse(_ message: String) -> Self { Self(kind: .badResponse, message: message) }

    /// The problem+json answer, naming the upstream (never the script path or the request).
    public func problem(upstream: FastCGIAddress) -> Problem {
        kind.problem(upstream: "The FastCGI server at \(upstream)", reason: message)
    }
}
