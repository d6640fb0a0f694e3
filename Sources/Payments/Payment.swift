import Foundation
import JSON

/// One payment as recorded in the ledger and returned to clients.
public struct Payment: Sendable, Equatable {
    public var id: String
    /// The amount as a canonical decimal string ("100", "10.5"), never a binary float.
    public var amount: String
    public var currency: String
    /// Seconds since the Unix epoch.
    public var created: Int64

    public init(id: String, amount: String, currency: String, created: Int64) {
        self.id = id
        self.amount = amount
        self.currency = currency
        self.created = created
    }

    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("object", .string("payment")), ("amount", .number(amount)),
            ("currency", .string(currency)), ("status", .string("succeeded")), ("created", .number(String(created))),
        ])
    }

    /// Reads a ledger line back; nil when the line is not a payment.
    public init?(json: JSONValue) {
        guard let id = json[member: "id"]?.stringValue, case .number(let amount)? = json[member: "amount"],
            let currency = json[member: "currency"]?.stringValue, let created = json[member: "created"]?.integerValue
        else { return nil }
        self.init(id: id, amount: amount, currency: currency, created: created)
    }

    /// A fresh id: "pay_" and 24 random hex digits.
    public static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return "pay_" + String((0..<24).map { _ in digits[Int.random(in: 0..<16, using: &g)] })
    }
}
