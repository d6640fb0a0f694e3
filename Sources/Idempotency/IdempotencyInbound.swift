import HTTP

/// What the inbound policy hands the outbound one: the claim it holds for this request.
public final class PendingClaim: @unchecked Sendable {
    public let storeKey: StoreKey
    public let record: IdempotencyRecord
    public let options: IdempotencyOptions
    public let store: any IdempotencyStore
    /// Set once the claim is completed or released, so it is resolved exactly once. A
    /// request's policies run on one thread, so this needs no lock.
    public var resolved = false

    init(storeKey: StoreKey, record: IdempotencyRecord, options: IdempotencyOptions, store: any IdempotencyStore) {
        self.storeKey = storeKey
        self.record = record
        self.options = options
        self.store = store
    }
}

enum PendingClaimKey: ContextKey { typealias Value = PendingClaim }

/// Where the principal of a request comes from; its identity scopes every key.
public protocol PrincipalSource: Sendable {
    func principal(of request: Request) -> String
}

/// No authentication in front: every client shares one scope (the seed's behaviour).
public struct AnonymousPrincipal: PrincipalSource {
    public init() {}
    public func principal(of request: Request) -> String { "" }
}

/// `idempotency-inbound`: replays a stored response, refuses misuse, or claims the key
/// atomically so the handler runs once.
public struct IdempotencyInbound: InboundPolicy {
    public let options: IdempotencyOptions
    public let store: any IdempotencyStore
    public let clock: any WallClock
    public let principals: any PrincipalSource

    public init(
        options: IdempotencyOptions, store: any IdempotencyStore, clock: any WallClock = SystemClock(),
        principals: any PrincipalSource = AnonymousPrincipal()
    ) {
        self.options = options
        self.store = store
        self.clock = clock
        self.principals = principals
    }

    public func inbound(_ request: Request, context: RequestContext) throws -> Response? {
        guard options.methods.contains(request.method.rawValue) else { return nil }
        guard let field = request.headers[options.headerName] else {
            if options.required {
                context.outcome = "rejected"
                return IdempotencyProblem.missingKey(header: options.headerName).response
            }
            return nil
        }
        let key: IdempotencyKey
        do {
            key = try IdempotencyKey.parse(field)
        } catch {
            context.outcome = "rejected"
            return IdempotencyProblem.invalidKey(error, header: options.headerName).response
        }

        let scope = Scope(
            principal: principals.principal(of: request), method: request.method.rawValue, route: context.route,
            key: key)
        let storeKey = scope.storeKey
        let fingerprint = Fingerprint(of: request)
        let now = clock.now()
        let claim = IdempotencyRecord(
            state: .inProgress, fingerprint: fingerprint, createdAt: now, expiresAt: now + options.ttlSeconds * 1000,
            leaseUntil: now + options.lockTimeoutSeconds * 1000, token: .random(), attempt: 1, response: nil,
            scope: scope)

        let outcome: ClaimOutcome
        do {
            outcome = try store.claim(storeKey, claim)
        } catch {
            context.outcome = "store-error"
            context.logFields.append(("error", error.description))
            return IdempotencyProblem.storeUnavailable(retryAfter: options.retryAfterSeconds).response
        }

        switch outcome {
        case .claimed(let previous):
            let pending = PendingClaim(storeKey: storeKey, record: claim, options: options, store: store)
            context[PendingClaimKey.self] = pending
            context.outcome = "executed"
            if let previous, previous.state == .inProgress {
                context.logFields.append(("takeover_attempt", String(ClaimDecision.attempt(after: previous))))
            }
            // Whatever ends this request (a later policy, a thrown handler), an unresolved
            // claim is released so the client can retry instead of waiting out the lease.
            let store = self.store
            context.onFinish { _ in
                guard !pending.resolved else { return }
                pending.resolved = true
                _ = try? store.release(storeKey, token: claim.token)
            }
            return nil
        case .existing(let record):
            guard record.fingerprint == fingerprint else {
                context.outcome = "mismatch"
                return IdempotencyProblem.mismatch(header: options.headerName).response
            }
            switch record.state {
            case .inProgress:
                context.outcome = "conflict"
                return IdempotencyProblem.inProgress(retryAfter: options.retryAfterSeconds).response
            case .complete:
                context.outcome = "replayed"
                return Replay.response(from: record.response)
            }
        }
    }
}
