import Foundation
import HTTP
import JSON

/// The example business logic behind `/payments`: create, fetch one, list.
/// Swap these for your own `Handler`s (see README, "Swap the handler").
public struct CreatePayment: Handler {
    public let ledger: any PaymentLedger
    public let now: @Sendable () -> Int64
    /// Simulated payment-provider latency before the payment is recorded, in milliseconds:
    /// a slow provider is what makes retries and concurrent duplicates happen.
    public let latencyMilliseconds: Int

    public init(ledger: any PaymentLedger, now: @escaping @Sendable () -> Int64, latencyMilliseconds: Int = 0) {
        self.ledger = ledger
        self.now = now
        self.latencyMilliseconds = latencyMilliseconds
    }

    public func handle(_ request: Request, context: RequestContext) throws -> Response {
        let input = try PaymentRequest.parse(request.body)
        if latencyMilliseconds > 0 { usleep(UInt32(latencyMilliseconds) * 1000) }
        let payment = Payment(id: Payment.newID(), amount: input.amount, currency: input.currency, created: now())
        do {
            try ledger.append(payment)
        } catch let error as LedgerError where error.written {
            // The payment is in the ledger; answering "not created" would make the client's
            // retry create a second one. Its durability is what is in doubt, not its existence.
        } catch {
            throw Problem(
                status: .serviceUnavailable, type: "ledger-unavailable", title: "Payment not recorded",
                detail: "The payment was not created: the ledger could not be written. Retry later.")
        }
        var headers = Headers()
        headers.set("Location", "/payments/\(payment.id)")
        return .json(.created, JSONWriter.bytes(payment.json), headers: headers)
    }
}

/// `GET /payments/{id}`.
public struct GetPayment: Handler {
    public let ledger: any PaymentLedger
    public init(ledger: any PaymentLedger) { self.ledger = ledger }

    public func handle(_ request: Request, context: RequestContext) throws -> Response {
        let id = context.pathParameters["id"] ?? ""
        guard let payment = try ledger.all().first(where: { $0.id == id }) else {
            throw Problem(
                status: .notFound, type: "payment-not-found", title: "Payment not found",
                detail: "No payment has id \(id).")
        }
        return .json(.ok, JSONWriter.bytes(payment.json))
    }
}

/// `GET /payments`: every payment, oldest first, with a count.
public struct ListPayments: Handler {
    public let ledger: any PaymentLedger
    public init(ledger: any PaymentLedger) { self.ledger = ledger }

    public func handle(_ request: Request, context: RequestContext) throws -> Response {
        let payments = try ledger.all()
        let body = JSONValue.object([
            ("object", .string("list")), ("count", .number(String(payments.count))),
            ("data", .array(payments.map(\.json))),
        ])
        return .json(.ok, JSONWriter.bytes(body))
    }
}
