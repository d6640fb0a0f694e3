import HTTP

/// Why an exchange with a FastCGI server failed, in the three outcomes a client can act on.
/// None of them is stored by the idempotency policy (5xx): the claim is released and a retry
/// runs the request again.
public struct FastCGIClientError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Nothing listens at the address (missing socket, refused, overloaded): 502.
        case unavailable
        /// Connecting or answering took longer than configured: 504.
        case timeout
        /// The answer broke the protocol, the CGI format, or `maxResponseBytes`: 502.
        case badResponse
    }

    public let kind: Kind
    public let message: String

    public var description: String { "\(kind): \(message)" }

    static func unavailable(_ message: String) -> Self { Self(kind: .unavailable, message: message) }
    static func timeout(_ message: String) -> Self { Self(kind: .timeout, message: message) }
    static func badResponse(_ message: String) -> Self { Self(kind: .badResponse, message: message) }

    /// The problem+json answer, naming the upstream (never the script path or the request).
    public func problem(upstream: FastCGIAddress) -> Problem {
        switch kind {
        case .unavailable:
            return Problem(
                status: Status(502), type: "upstream-unavailable", title: "Upstream unavailable",
                detail: "The FastCGI server at \(upstream) could not be reached (\(message)). Retry later.")
        case .timeout:
            return Problem(
                status: Status(504), type: "upstream-timeout", title: "Upstream timed out",
                detail: "The FastCGI server at \(upstream) did not answer in time (\(message)). Retry later.")
        case .badResponse:
            return Problem(
                status: Status(502), type: "upstream-bad-response", title: "Bad response from upstream",
                detail: "The FastCGI server at \(upstream) sent an answer Idem cannot use (\(message)).")
        }
    }
}
