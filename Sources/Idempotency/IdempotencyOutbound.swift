import HTTP

/// `idempotency-outbound`: stores the response of a claimed request for replay, or
/// releases the claim when the response is not one to keep.
///
/// The store write happens before the response leaves the responder: once a client has
/// the response, a retry replays it.
public struct IdempotencyOutbound: OutboundPolicy {
    public let clock: any WallClock
    public let log: @Sendable (String) -> Void

    public init(clock: any WallClock = SystemClock(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.clock = clock
        self.log = log
    }

    public func outbound(_ response: inout Response, request: Request, context: RequestContext) throws {
        guard let pending = context[PendingClaimKey.self], !pending.resolved else { return }
        pending.resolved = true
        let claim = pending.record
        guard pending.options.cacheStatuses.contains(response.status.rawValue) else {
            context.logFields.append(("stored", "no"))
            releaseClaim(pending, context: context)
            return
        }
        let now = clock.now()
        var record = claim
        record.state = .complete
        record.expiresAt = now + pending.options.ttlSeconds * 1000
        record.leaseUntil = now
        let stored = Replay.stored(response)
        if Replay.storedSize(stored) > pending.options.maxStoredBytes {
            // Too large to keep: remember that the key ran, so a retry gets 409, never a second run.
            record.state = .unavailable
            context.logFields.append(("stored", "too-large"))
        } else {
            record.response = stored
        }
        do {
            let kept = try context.timeStore("complete") { () throws(StoreError) in
                try pending.store.complete(pending.storeKey, token: claim.token, with: record)
            }
            if !kept {
                context.logFields.append(("stored", "lease-lost"))
                log("idempotency: lease lost before completion; response not stored for route \(context.route)")
            }
        } catch .full where record.state == .complete {
            // No room for the response: record at least that the key ran (a record the size of
            // the claim), so retries get 409 instead of running the operation again.
            record.state = .unavailable
            record.response = nil
            let kept = (try? pending.store.complete(pending.storeKey, token: claim.token, with: record)) ?? false
            context.logFields.append(("stored", kept ? "too-large" : "failed"))
            log("idempotency: store full; the key is recorded without its response (retries get 409)")
        } catch {
            // The operation ran: hiding its response would be worse than a retry seeing 409
            // until the lease expires. Say so loudly.
            context.logFields.append(("stored", "failed"))
            log("idempotency: storing the response failed (\(error)); retries see 409 until the lease expires")
        }
    }

    private func releaseClaim(_ pending: PendingClaim, context: RequestContext) {
        do {
            _ = try context.timeStore("release") { () throws(StoreError) in
                try pending.store.release(pending.storeKey, token: pending.record.token)
            }
        } catch {
            log("idempotency: releasing a claim failed (\(error)); the key stays locked until its lease expires")
        }
    }
}
