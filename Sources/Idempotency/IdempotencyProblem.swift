import HTTP

/// The answers the idempotency layer gives instead of running the handler, each with its
/// status and stable problem type.
public enum IdempotencyProblem {
    public static let docs = "https://idem.dev/docs/idempotency-key"

    public static func invalidKey(_ reason: IdempotencyKey.Invalid, header: String) -> Problem {
        let detail: String
        switch reason {
        case .empty: detail = "The \(header) header is empty."
        case .tooLong: detail = "The \(header) header is longer than \(IdempotencyKey.maxLength) characters."
        case .list: detail = "The \(header) header must carry exactly one key (a list or a repeated header was sent)."
        case .invalidCharacter: detail = "The \(header) header may contain only visible ASCII characters."
        case .unterminatedQuote: detail = "The \(header) header has an unterminated quoted string."
        }
        return Problem(
            status: .badRequest, type: "invalid-idempotency-key", title: "Invalid idempotency key", detail: detail)
    }

    public static func missingKey(header: String) -> Problem {
        var headers = Headers()
        headers.set("Link", "<\(docs)>; rel=\"help\"")
        return Problem(
            status: .badRequest, type: "idempotency-key-required", title: "Idempotency key required",
            detail: "This operation requires an \(header) header.", headers: headers)
    }

    public static func mismatch(header: String) -> Problem {
        Problem(
            status: .unprocessableContent, type: "idempotency-key-reused", title: "Idempotency key reused",
            detail:
                "This \(header) was already used with a different request (method, path, query, content type or body).")
    }

    public static func inProgress(retryAfter: Int) -> Problem {
        var headers = Headers()
        headers.set("Retry-After", String(retryAfter))
        return Problem(
            status: .conflict, type: "request-in-progress", title: "Request in progress",
            detail: "A request with this idempotency key is still being processed. Retry later.", headers: headers)
    }

    public static func responseNotStored(retryAfter: Int) -> Problem {
        Problem(
            status: .conflict, type: "response-not-stored", title: "Response not available",
            detail:
                "A request with this idempotency key was already processed, but its response was too large to keep. "
                + "It will not be processed again; use a new key for a new request.")
    }

    public static func outcomeUnknown() -> Problem {
        Problem(
            status: .conflict, type: "outcome-unknown", title: "Outcome unknown",
            detail:
                "A request with this idempotency key started but its processing was interrupted; whether it took "
                + "effect is unknown, so it is not run again. Check the resource's state, then use a new key.")
    }

    public static func storeUnavailable(retryAfter: Int) -> Problem {
        var headers = Headers()
        headers.set("Retry-After", String(retryAfter))
        return Problem(
            status: .serviceUnavailable, type: "idempotency-store-unavailable", title: "Idempotency store unavailable",
            detail: "The request was not processed because its idempotency key could not be recorded. Retry later.",
            headers: headers)
    }
}
