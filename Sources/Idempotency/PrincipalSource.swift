import Digest
import HTTP

/// Where the identity that scopes idempotency keys comes from. Keys of two principals never
/// meet: principal B can never receive A's response. Values are prefixed by their source so
/// two sources cannot collide; a request without the configured identity is anonymous ("").
public enum PrincipalSource: Sendable, Equatable {
    /// No authentication in front: every client shares one key space (the seed's behaviour).
    case none
    /// nginx's `$remote_user` (HTTP basic auth), passed as the `REMOTE_USER` param.
    case remoteUser
    /// A FastCGI param set by nginx, e.g. from `auth_request` via `fastcgi_param`.
    case parameter(String)
    /// The SHA-256 of a request header such as `Authorization`; the secret is never stored.
    case headerHash(String)

    public func principal(of request: Request) -> String {
        switch self {
        case .none:
            return ""
        case .remoteUser:
            return request.parameters["REMOTE_USER"].flatMap { $0.isEmpty ? nil : "user:" + $0 } ?? ""
        case .parameter(let name):
            return request.parameters[name].flatMap { $0.isEmpty ? nil : "param:" + $0 } ?? ""
        case .headerHash(let name):
            return request.headers[name].map { "sha256:" + Hex.encode(SHA256.hash($0)) } ?? ""
        }
    }
}
