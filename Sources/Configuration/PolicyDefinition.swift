import Idempotency

/// The policy types compiled into Idem, by the name used in `policyType`.
public enum PolicyType: String, CaseIterable, Sendable {
    case idempotencyInbound = "idempotency-inbound"
    case idempotencyOutbound = "idempotency-outbound"

    public var isInbound: Bool { self == .idempotencyInbound }
}

/// One entry of `policies.json`: a named, configured instance of a policy type.
public struct PolicyDefinition: Sendable, Equatable {
    public var name: String
    public var type: PolicyType
    /// Options of the idempotency policies (the outbound one takes none of its own).
    public var idempotency: IdempotencyOptions
}

/// `policies.json`: `{"policies": [{"name", "policyType", "handler": {"export", "module", "options"}}]}`.
enum PoliciesFile {
    static func decode(_ root: ConfigValue) throws(ConfigError) -> [String: PolicyDefinition] {
        var result: [String: PolicyDefinition] = [:]
        for (name, member) in try root.members(allowed: ["$schema", "policies"]) where name == "policies" {
            for entry in try member.elements() {
                let definition = try decodeEntry(entry)
                if result[definition.name] != nil {
                    throw try entry.requiredMember("name").error("duplicate policy name \"\(definition.name)\"")
                }
                result[definition.name] = definition
            }
        }
        guard try root.member("policies") != nil else { throw root.error("missing required member \"policies\"") }
        return result
    }

    private static func decodeEntry(_ entry: ConfigValue) throws(ConfigError) -> PolicyDefinition {
        _ = try entry.members(allowed: ["name", "policyType", "handler"])
        let name = try entry.requiredMember("name").nonEmptyString()
        let typeValue = try entry.requiredMember("policyType")
        let typeName = try typeValue.string()
        guard let type = PolicyType(rawValue: typeName) else {
            throw typeValue.error(
                "unknown policy type \"\(typeName)\"; expected one of: \(PolicyType.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        var options = IdempotencyOptions()
        if let handler = try entry.member("handler") {
            _ = try handler.members(allowed: ["export", "module", "options"])
            if let opts = try handler.member("options") {
                switch type {
                case .idempotencyInbound: options = try IdempotencyOptionsDecoder.decode(opts)
                case .idempotencyOutbound:
                    if let first = try opts.members().first {
                        throw first.1.error(
                            "idempotency-outbound takes no options; set \"\(first.0)\" on the idempotency-inbound policy"
                        )
                    }
                }
            }
        }
        return PolicyDefinition(name: name, type: type, idempotency: options)
    }
}
