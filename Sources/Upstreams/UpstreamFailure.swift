import HTTP

/// The three ways an exchange with an upstream fails, reported the same way by every upstream
/// handler. None is stored by the idempotency policy (5xx): the claim is released and the
/// client's retry is forwarded again.
public enum UpstreamFailure: Sendable, Equatable {
    /// Nothing answers at the address (refused, missing socket, overloaded): 502.
    case unavailable
    /// Connecting or answering took longer than configured: 504.
    case timeout
    /// The answer broke the protocol, the format, or `maxResponseBytes`: 502.
    case badResponse

    /// The problem+json answer, naming the upstream (never the request's path or script).
    public func problem(upstream: String, reason: String) -> Problem {
        switch self {
        case .unavailable:
            return Problem(
                status: Status(502), type: "upstream-unavailable", title: "Upstream unavailable",
                detail: "\(upstream) could not be reached (\(reason)). Retry later.")
        case .timeout:
            return Problem(
                status: Status(504), type: "upstream-timeout", title: "Upstream timed out",
                detail: "\(upstream) did not answer in time (\(reason)). Retry later.")
        case .badResponse:
            return Problem(
                status: Status(502), type: "upstream-bad-response", title: "Bad response from upstream",
                detail: "\(upstream) sent an answer Idem cannot use (\(reason)).")
        }
    }
}
