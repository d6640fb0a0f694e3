import HTTP
import JSON
import TestSupport
import Testing

@testable import Payments

private struct BrokenLedger: PaymentLedger {
    struct Failure: Error {}
    func append(_ payment: Payment) throws { throw Failure() }
    func all() throws -> [Payment] { [] }
}

@Suite struct PaymentsHandlersTests {
    let dir = TemporaryDirectory()
    let ledger: FileLedger

    init() throws { ledger = try FileLedger(path: dir.file("payments.jsonl")) }

    private func create(_ body: String, ledger: (any PaymentLedger)? = nil) throws -> Response {
        try CreatePayment(ledger: ledger ?? self.ledger, now: { 1_700_000_000 })
            .handle(
                Request(method: .post, target: "/payments", body: Array(body.utf8)),
                context: RequestContext(route: "/payments"))
    }

    private func get(_ id: String) throws -> Response {
        try GetPayment(ledger: ledger).handle(
            Request(method: .get, target: "/payments/\(id)"),
            context: RequestContext(route: "/payments/{id}", pathParameters: ["id": id]))
    }

    @Test func createAnswers201WithLocationAndPaymentJson() throws {
        let response = try create(#"{"amount": 10.50, "currency": "usd"}"#)
        #expect(response.status == .created)
        #expect(response.headers["Content-Type"] == "application/json")
        let body = try JSONParser.parse(response.body)
        let id = try #require(body[member: "id"]?.stringValue)
        #expect(id.hasPrefix("pay_"))
        #expect(response.headers["Location"] == "/payments/\(id)")
        #expect(body[member: "amount"] == .number("10.5"))
        #expect(body[member: "currency"] == .string("USD"))
        #expect(body[member: "created"] == .number("1700000000"))
        #expect(try ledger.all() == [Payment(id: id, amount: "10.5", currency: "USD", created: 1_700_000_000)])
    }

    @Test func createWithInvalidBodyThrowsProblemAndRecordsNothing() throws {
        let problem = #expect(throws: Problem.self) { try create(#"{"amount": 0, "currency": "USD"}"#) }
        #expect(problem?.status == .badRequest)
        #expect(problem?.type.hasSuffix("invalid-payment") == true)
        #expect(try ledger.all().isEmpty)
    }

    @Test func createWhenLedgerFailsIs503NotCreated() throws {
        let problem = #expect(throws: Problem.self) {
            try create(#"{"amount": 1, "currency": "USD"}"#, ledger: BrokenLedger())
        }
        #expect(problem?.status == .serviceUnavailable)
        #expect(problem?.type.hasSuffix("ledger-unavailable") == true)
    }

    @Test func twoCreatesMakeTwoDistinctPayments() throws {
        let a = try JSONParser.parse(try create(#"{"amount": 1, "currency": "USD"}"#).body)[member: "id"]
        let b = try JSONParser.parse(try create(#"{"amount": 1, "currency": "USD"}"#).body)[member: "id"]
        #expect(a != b)
        #expect(try ledger.all().count == 2)
    }

    @Test func listCountsEveryPaymentOldestFirst() throws {
        try ledger.append(Payment(id: "pay_1", amount: "1", currency: "USD", created: 1))
        try ledger.append(Payment(id: "pay_2", amount: "2", currency: "EUR", created: 2))
        let response = try ListPayments(ledger: ledger).handle(
            Request(method: .get, target: "/payments"), context: RequestContext(route: "/payments"))
        #expect(response.status == .ok)
        let body = try JSONParser.parse(response.body)
        #expect(body[member: "object"] == .string("list"))
        #expect(body[member: "count"] == .number("2"))
        guard case .array(let data)? = body[member: "data"] else {
            Issue.record("data is not an array")
            return
        }
        #expect(data.map { $0[member: "id"] } == [.string("pay_1"), .string("pay_2")])
    }

    @Test func listOfEmptyLedgerHasCountZero() throws {
        let response = try ListPayments(ledger: ledger).handle(
            Request(method: .get, target: "/payments"), context: RequestContext(route: "/payments"))
        let body = try JSONParser.parse(response.body)
        #expect(body[member: "count"] == .number("0"))
        #expect(body[member: "data"] == .array([]))
    }

    @Test func getFindsCreatedPayment() throws {
        let created = try JSONParser.parse(try create(#"{"amount": 7, "currency": "GBP"}"#).body)
        let id = try #require(created[member: "id"]?.stringValue)
        let response = try get(id)
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(try JSONParser.parse(response.body) == created)
    }

    @Test func getOfUnknownIdIs404Problem() throws {
        try ledger.append(Payment(id: "pay_1", amount: "1", currency: "USD", created: 1))
        let problem = #expect(throws: Problem.self) { try get("pay_missing") }
        #expect(problem?.status == .notFound)
        #expect(problem?.type.hasSuffix("/payment-not-found") == true)
        #expect(problem?.detail?.contains("pay_missing") == true)
    }

    @Test func getWithoutIdParameterIs404Problem() throws {
        try ledger.append(Payment(id: "pay_1", amount: "1", currency: "USD", created: 1))
        let problem = #expect(throws: Problem.self) {
            try GetPayment(ledger: ledger).handle(
                Request(method: .get, target: "/payments/"), context: RequestContext(route: "/payments/{id}"))
        }
        #expect(problem?.status == .notFound)
    }
}
