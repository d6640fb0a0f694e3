/// Tells whether the process that holds a claim is still alive, so a retry can take over a
/// claim whose owner crashed without waiting for its lease to run out.
///
/// Implementer's contract: `isDead` answers true only when death is certain (same host, and
/// the owner's liveness lock is free or its boot is over). Unknown owners are alive: the
/// lease decides for them.
public protocol OwnerLiveness: Sendable {
    /// This process's identity, stored in every claim it makes.
    var owner: String { get }
    func isDead(_ owner: String) -> Bool
}

/// No liveness information: only leases end claims.
public struct LeaseOnlyLiveness: OwnerLiveness {
    public init() {}
    public var owner: String { "" }
    public func isDead(_ owner: String) -> Bool { false }
}
