import Idempotency

/// Decodes `handler.options` of an `idempotency-inbound` policy; every member is optional.
enum IdempotencyOptionsDecoder {
    static let members: Set<String> = [
        "ttlSeconds", "lockTimeoutSeconds", "headerName", "methods", "required", "cacheStatuses", "retryAfterSeconds",
        "principal", "strict", "waitSeconds", "maxStoredBytes", "replayHeader", "stripeReplayHeader", "failOpen",
    ]

    static func decode(_ value: ConfigValue) throws(ConfigError) -> IdempotencyOptions {
        var o = IdempotencyOptions()
        for (name, member) in try value.members(allowed: members) {
            switch name {
            case "ttlSeconds": o.ttlSeconds = try member.integer(in: 1...31_536_000)
            case "lockTimeoutSeconds": o.lockTimeoutSeconds = try member.integer(in: 1...86_400)
            case "retryAfterSeconds": o.retryAfterSeconds = Int(try member.integer(in: 1...3600))
            case "required": o.required = try member.bool()
            case "headerName": o.headerName = try headerName(member)
            case "replayHeader": o.replayHeader = try headerName(member)
            case "stripeReplayHeader": o.stripeReplayHeader = try member.bool()
            case "strict": o.strict = try member.bool()
            case "failOpen": o.failOpen = try member.bool()
            case "waitSeconds": o.waitSeconds = try member.integer(in: 0...60)
            case "maxStoredBytes": o.maxStoredBytes = Int(try member.integer(in: 0...(64 << 20)))
            case "principal": o.principal = try principal(member)
            case "methods":
                var methods: Set<String> = []
                for element in try member.elements() {
                    let m = try element.nonEmptyString().uppercased()
                    guard m.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                        throw element.error("expected an HTTP method such as \"POST\"")
                    }
                    methods.insert(m)
                }
                guard !methods.isEmpty else { throw member.error("expected at least one method") }
                o.methods = methods
            case "cacheStatuses": o.cacheStatuses = try decodeStatuses(member)
            default: break
            }
        }
        if o.lockTimeoutSeconds > o.ttlSeconds {
            throw value.error(
                "lockTimeoutSeconds (\(o.lockTimeoutSeconds)) must not exceed ttlSeconds (\(o.ttlSeconds)): a claim would outlive its record"
            )
        }
        return o
    }

    static func headerName(_ member: ConfigValue) throws(ConfigError) -> String {
        let header = try member.nonEmptyString()
        guard header.utf8.allSatisfy({ isTokenChar($0) }) else {
            throw member.error("expected an HTTP header name (letters, digits and -), found \"\(header)\"")
        }
        guard !header.contains("_") else {
            throw member.error("nginx drops header names containing '_'; use '-' instead of '_' in \"\(header)\"")
        }
        return header
    }

    /// `{"from": "none" | "remote-user"}`, `{"from": "param", "name": "X_USER"}`,
    /// `{"from": "header", "name": "Authorization"}`.
    static func principal(_ value: ConfigValue) throws(ConfigError) -> PrincipalSource {
        _ = try value.members(allowed: ["from", "name"])
        let fromValue = try value.requiredMember("from")
        let from = try fromValue.string()
        let name = try value.member("name")
        switch from {
        case "none", "remote-user":
            if let name { throw name.error("\"name\" is only used with \"from\": \"param\" or \"header\"") }
            return from == "none" ? .none : .remoteUser
        case "param":
            guard let name else { throw value.error("missing required member \"name\" (the FastCGI param)") }
            let param = try name.nonEmptyString()
            // Those params are request headers, which any client can set: not an identity.
            guard !param.hasPrefix("HTTP_"), param != "CONTENT_TYPE", param != "CONTENT_LENGTH" else {
                throw name.error(
                    "\"\(param)\" carries a request header that clients control; use a param nginx sets "
                        + "(fastcgi_param X_USER $remote_user, or one filled by auth_request)")
            }
            return .parameter(param)
        case "header":
            guard let name else { throw value.error("missing required member \"name\" (the request header)") }
            return .headerHash(try headerName(name))
        default:
            throw fromValue.error("expected one of: none, remote-user, param, header; found \"\(from)\"")
        }
    }

    /// `[200, 201]`, `["2xx"]`, `["200-299", 302]`.
    private static func decodeStatuses(_ value: ConfigValue) throws(ConfigError) -> StatusSet {
        var ranges: [ClosedRange<Int>] = []
        for element in try value.elements() {
            if case .number = element.value {
                let n = Int(try element.integer(in: 100...599))
                ranges.append(n...n)
                continue
            }
            let text = try element.string()
            let expected = "expected a status (201), a class (\"2xx\") or a range (\"200-299\"), found \"\(text)\""
            if text.count == 3, text.hasSuffix("xx"), let d = Int(text.prefix(1)), (1...5).contains(d) {
                ranges.append((d * 100)...(d * 100 + 99))
            } else if let dash = text.firstIndex(of: "-"), let lo = Int(text[..<dash]),
                let hi = Int(text[text.index(after: dash)...]), 100 <= lo, lo <= hi, hi <= 599
            {
                ranges.append(lo...hi)
            } else {
                throw element.error(expected)
            }
        }
        guard !ranges.isEmpty else { throw value.error("expected at least one status") }
        return StatusSet(ranges)
    }

    private static func isTokenChar(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
    }
}
