import HTTP

/// What of a response is stored, and how a stored response is replayed.
public enum Replay {
    public static let replayHeader = "X-Idempotent-Replay"

    /// Headers that describe one transmission, not the result: never stored or replayed.
    static let excluded: [String] = [
        "Set-Cookie", "Date", "Server", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade",
        "Proxy-Connection", "Proxy-Authenticate", "Trailer", "TE", "Content-Length", "X-Request-Id",
        "Request-Id", "X-Correlation-Id", replayHeader, "Idempotent-Replayed",
    ]

    static func isExcluded(_ name: String) -> Bool { excluded.contains { Headers.same($0, name) } }

    /// Bytes a response takes in the store, compared with `maxStoredBytes`.
    public static func storedSize(_ response: StoredResponse) -> Int {
        response.body.count + response.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 8 }
    }

    public static func stored(_ response: Response) -> StoredResponse {
        StoredResponse(
            status: response.status.rawValue,
            headers: response.headers.fields.filter { !isExcluded($0.name) }.map { ($0.name, $0.value) },
            body: response.body)
    }

    public static func response(from stored: StoredResponse?, options: IdempotencyOptions) -> Response {
        guard let stored else {
            return Problem(status: .internalServerError, type: "replay-missing", title: "Stored response missing")
                .response
        }
        var headers = Headers(stored.headers)
        headers.set(options.replayHeader, "true")
        if options.stripeReplayHeader { headers.set("Idempotent-Replayed", "true") }
        return Response(status: Status(stored.status), headers: headers, body: stored.body)
    }
}
