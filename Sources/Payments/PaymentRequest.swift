import Foundation
import HTTP
import JSON

/// The validated body of `POST /payments`: `{"amount": 100, "currency": "USD"}`.
public struct PaymentRequest: Sendable, Equatable {
    public var amount: String
    public var currency: String

    /// The largest amount accepted, in the currency's units, so totals stay exact.
    public static let maxAmount = Decimal(string: "1000000000000")!

    /// Validates `body`, collecting every field error so the client can fix them in one go.
    public static func parse(_ body: [UInt8]) throws(Problem) -> PaymentRequest {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw invalid("The body is not valid JSON (\(error)).", errors: [])
        }
        guard case .object = document else {
            throw invalid(
                "The body must be a JSON object such as {\"amount\": 100, \"currency\": \"USD\"}.", errors: [])
        }
        var errors: [(String, String)] = []
        var amount = ""
        switch document[member: "amount"] {
        case .number(let lexeme)?:
            if significantDigits(lexeme) > maxSignificantDigits {
                errors.append(("amount", "has more than \(maxSignificantDigits) significant digits"))
            } else if let value = Decimal(string: lexeme), value > 0, value <= maxAmount {
                amount = value.description
            } else {
                errors.append(("amount", "must be a positive number no larger than 1000000000000"))
            }
        case nil: errors.append(("amount", "is required"))
        case let other?: errors.append(("amount", "must be a number, not \(other.kindDescription)"))
        }
        var currency = ""
        switch document[member: "currency"] {
        case .string(let code)?:
            if code.utf8.count == 3, code.utf8.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) {
                currency = code.uppercased()
            } else {
                errors.append(("currency", "must be a 3-letter ISO 4217 code such as \"USD\""))
            }
        case nil: errors.append(("currency", "is required"))
        case let other?: errors.append(("currency", "must be a string, not \(other.kindDescription)"))
        }
        guard errors.isEmpty else {
            throw invalid(errors.map { "\($0.0) \($0.1)" }.joined(separator: "; ") + ".", errors: errors)
        }
        return PaymentRequest(amount: amount, currency: currency)
    }

    /// `Decimal` holds 38 digits exactly; refusing longer amounts means a payment is never
    /// recorded with an amount other than the one the client sent.
    static let maxSignificantDigits = 30

    static func significantDigits(_ lexeme: String) -> Int {
        let mantissa = lexeme.prefix { $0 != "e" && $0 != "E" }.filter(\.isNumber)
        return mantissa.drop { $0 == "0" }.reversed().drop { $0 == "0" }.count
    }

    private static func invalid(_ detail: String, errors: [(String, String)]) -> Problem {
        var extensions: [(String, JSONValue)] = []
        if !errors.isEmpty {
            extensions.append(
                ("errors", .array(errors.map { .object([("field", .string($0.0)), ("detail", .string($0.1))]) })))
        }
        return Problem(
            status: .badRequest, type: "invalid-payment", title: "Invalid payment request", detail: detail,
            extensions: extensions)
    }
}
