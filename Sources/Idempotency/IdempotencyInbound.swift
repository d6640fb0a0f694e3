import Digest
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

/// `idempotency-inbound`: replays a stored response, refuses misuse, or claims the key
/// atomically so the handler runs once.
public struct IdempotencyInbound: InboundPolicy {
    public let options: IdempotencyOptions
    public let store: any IdempotencyStore
    public let clock: any WallClock
    public let liveness: any OwnerLiveness
    /// Pauses the calling thread while waiting for a running duplicate (`waitSeconds`).
    public let sleep: @Sendable (_ milliseconds: Int64) -> Void

    public init(
        options: IdempotencyOptions, store: any IdempotencyStore, clock: any WallClock = SystemClock(),
        liveness: any OwnerLiveness = LeaseOnlyLiveness(),
        sleep: @escaping @Sendable (Int64) -> Void = { ms in SystemClock.sleep(milliseconds: ms) }
    ) {
        self.options = options
        self.store = store
        self.clock = clock
        self.liveness = liveness
        self.sleep = sleep
    }

    public func inbound(_ request: Request, context: RequestContext) throws -> Response? {
        guard options.methods.contains(request.method.rawValue) else { return nil }
        guard let field = request.headers[options.headerName] else {
            if options.required {
                context.outcome = "missing-key"
                return IdempotencyProblem.missingKey(header: options.headerName).response
            }
            return nil
        }
        let key: IdempotencyKey
        do {
            key = try IdempotencyKey.parse(field)
        } catch {
            context.outcome = "invalid-key"
            return IdempotencyProblem.invalidKey(error, header: options.headerName).response
        }
        let scope = Scope(
            principal: options.principal.principal(of: request), method: request.method.rawValue,
            route: context.route, key: key)
        do {
            return try decide(scope: scope, fingerprint: Fingerprint(of: request), context: context)
        } catch {
            context.logFields.append(("error", error.description))
            if options.failOpen, case .unavailable = error {
                context.outcome = "unprotected"
                return nil
            }
            context.outcome = "store-error"
            return IdempotencyProblem.storeUnavailable(retryAfter: options.retryAfterSeconds).response
        }
    }

    /// Claims the key, or answers from the record that already holds it. Loops only when
    /// the record changed under us (a takeover race, or the end of a wait).
    private func decide(scope: Scope, fingerprint: Fingerprint, context: RequestContext) throws(StoreError)
        -> Response?
    {
        let storeKey = scope.storeKey
        context.keyHash = Hex.encode(storeKey.bytes[1..<7])
        // The common retry is a replay: answer it from a read, without taking the store's
        // writer lock. Anything else (absent, running, expired) goes through the atomic claim.
        if let stored = try context.timeStore("read", { () throws(StoreError) in try store.record(for: storeKey) }),
            stored.state == .complete, stored.isLive(at: clock.now()),
            stored.fingerprint == fingerprint
        {
            context.outcome = "replayed"
            return Replay.response(from: stored.response, options: options)
        }
        let waitUntil = clock.now() + options.waitSeconds * 1000
        for _ in 0..<8 {
            let claim = newClaim(scope: scope, fingerprint: fingerprint)
            let existing: IdempotencyRecord
            switch try context.timeStore("claim", { () throws(StoreError) in try store.claim(storeKey, claim) }) {
            case .claimed:
                hold(claim, at: storeKey, context: context)
                return nil
            case .existing(let record):
                existing = record
            }
            guard existing.fingerprint == fingerprint else {
                context.outcome = "mismatch"
                return IdempotencyProblem.mismatch(header: options.headerName).response
            }
            switch existing.state {
            case .complete:
                context.outcome = "replayed"
                return Replay.response(from: existing.response, options: options)
            case .unavailable:
                context.outcome = "conflict"
                return IdempotencyProblem.responseNotStored(retryAfter: options.retryAfterSeconds).response
            case .inProgress:
                let now = clock.now()
                let reason =
                    existing.leaseExpired(at: now)
                    ? "lease-expired" : (liveness.isDead(existing.owner) ? "owner-dead" : nil)
                if let reason {
                    if options.strict {
                        context.outcome = "outcome-unknown"
                        context.logFields.append(("abandoned", reason))
                        return IdempotencyProblem.outcomeUnknown().response
                    }
                    if try context.timeStore(
                        "takeover",
                        { () throws(StoreError) in try store.takeOver(storeKey, from: existing.token, with: claim) })
                    {
                        hold(claim, at: storeKey, context: context)
                        context.takeoverReason = reason
                        context.logFields.append(("takeover_attempt", String(existing.attempt &+ 1)))
                        context.logFields.append(("takeover_reason", reason))
                        return nil
                    }
                    continue  // another retry took it over first: look again
                }
                if now < waitUntil, try waitForChange(of: existing, at: storeKey, until: waitUntil) {
                    continue
                }
                context.outcome = "conflict"
                return IdempotencyProblem.inProgress(retryAfter: options.retryAfterSeconds).response
            }
        }
        context.outcome = "conflict"
        return IdempotencyProblem.inProgress(retryAfter: options.retryAfterSeconds).response
    }

    private func newClaim(scope: Scope, fingerprint: Fingerprint) -> IdempotencyRecord {
        let now = clock.now()
        return IdempotencyRecord(
            state: .inProgress, fingerprint: fingerprint, createdAt: now, expiresAt: now + options.ttlSeconds * 1000,
            leaseUntil: now + options.lockTimeoutSeconds * 1000, token: .random(), attempt: 1, response: nil,
            scope: scope, owner: liveness.owner)
    }

    /// Polls (reads only) until the running claim is resolved, replaced or abandoned, or
    /// `deadline` passes. True when there is something new to decide on.
    private func waitForChange(of claim: IdempotencyRecord, at key: StoreKey, until deadline: Timestamp)
        throws(StoreError) -> Bool
    {
        var interval: Int64 = 10
        while clock.now() < deadline {
            sleep(min(interval, max(1, deadline - clock.now())))
            interval = min(interval * 2, 200)
            guard let current = try store.record(for: key) else { return true }
            if current.token != claim.token || current.state != .inProgress || current.leaseExpired(at: clock.now()) {
                return true
            }
        }
        return false
    }

    private func hold(_ claim: IdempotencyRecord, at storeKey: StoreKey, context: RequestContext) {
        let pending = PendingClaim(storeKey: storeKey, record: claim, options: options, store: store)
        context[PendingClaimKey.self] = pending
        context.outcome = "executed"
        // Whatever ends this request (a later policy, a thrown handler), an unresolved
        // claim is released so the client can retry instead of waiting out the lease.
        let store = self.store
        context.onFinish { _ in
            guard !pending.resolved else { return }
            pending.resolved = true
            _ = try? context.timeStore("release") { () throws(StoreError) in
                try store.release(storeKey, token: claim.token)
            }
        }
    }
}
