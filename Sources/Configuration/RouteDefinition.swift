import HTTP
import JSON

/// One operation of `routes.oas.json` that Idem serves.
public struct RouteDefinition: Sendable {
    /// The OpenAPI path template, e.g. `/payments/{id}`.
    public var path: String
    public var method: Method
    public var operationId: String?
    /// The compiled-in handler named by `handler.export`.
    public var handlerName: String
    /// `handler.options`, for the handler's factory to validate.
    public var handlerOptions: ConfigValue
    public var inbound: [String]
    public var outbound: [String]
}

/// `routes.oas.json`: an OpenAPI 3.1 document whose operations carry an `x-idem-route`
/// object (`x-zuplo-route` is accepted too, so a Zuplo project ports unchanged).
enum RoutesFile {
    static let routeKeys = ["x-idem-route", "x-zuplo-route"]
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func decode(
        _ root: ConfigValue, policies: [String: PolicyDefinition], handlers: Set<String>
    ) throws(ConfigError) -> [RouteDefinition] {
        guard let paths = try root.member("paths") else { throw root.error("missing required member \"paths\"") }
        var routes: [RouteDefinition] = []
        for (template, item) in try paths.members() {
            guard template.hasPrefix("/") else { throw item.error("a path must start with '/'") }
            try validateTemplate(template, at: item)
            for (key, operation) in try item.members() {
                guard methods.contains(key) else { continue }  // summary, parameters, servers, ...
                routes.append(
                    try decodeOperation(
                        operation, path: template, method: Method(rawValue: key), policies: policies, handlers: handlers
                    ))
            }
        }
        return routes
    }

    private static func validateTemplate(_ template: String, at item: ConfigValue) throws(ConfigError) {
        for segment in template.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let opens = segment.filter { $0 == "{" }.count
            let closes = segment.filter { $0 == "}" }.count
            if opens != closes || opens > 1
                || (opens == 1 && !(segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2))
            {
                throw item.error("path parameters must fill a whole segment, like /payments/{id}")
            }
        }
    }

    private static func decodeOperation(
        _ operation: ConfigValue, path: String, method: Method, policies: [String: PolicyDefinition],
        handlers: Set<String>
    ) throws(ConfigError) -> RouteDefinition {
        var routeObject: ConfigValue?
        for key in routeKeys { if let r = try operation.member(key) { routeObject = r; break } }
        guard let route = routeObject else {
            throw operation.error("missing \"x-idem-route\" (the object naming this operation's handler and policies)")
        }
        _ = try route.members(allowed: ["handler", "policies", "corsPolicy"])
        let handler = try route.requiredMember("handler")
        _ = try handler.members(allowed: ["export", "module", "options"])
        let exportValue = try handler.requiredMember("export")
        let handlerName = try exportValue.string()
        guard handlers.contains(handlerName) else {
            throw exportValue.error(
                "unknown handler \"\(handlerName)\"; handlers compiled into this binary: \(handlers.sorted().joined(separator: ", "))"
            )
        }
        let options =
            try handler.member("options")
            ?? ConfigValue(.object([]), file: handler.file, path: handler.path + ".options")
        _ = try options.members()

        var inbound: [String] = []
        var outbound: [String] = []
        if let policyLists = try route.member("policies") {
            for (phase, list) in try policyLists.members(allowed: ["inbound", "outbound"]) {
                for element in try list.elements() {
                    let name = try element.string()
                    guard let definition = policies[name] else {
                        throw element.error(
                            "unknown policy \"\(name)\"; policies.json defines: \(policies.keys.sorted().joined(separator: ", "))"
                        )
                    }
                    let wantInbound = phase == "inbound"
                    guard definition.type.isInbound == wantInbound else {
                        throw element.error(
                            "policy \"\(name)\" is of type \(definition.type.rawValue) and cannot run \(phase)")
                    }
                    if wantInbound { inbound.append(name) } else { outbound.append(name) }
                }
            }
            for type in [PolicyType.idempotencyInbound, .idempotencyOutbound] {
                let uses = (inbound + outbound).filter { policies[$0]?.type == type }
                if uses.count > 1 {
                    throw policyLists.error(
                        "a route may use one \(type.rawValue) policy; found \(uses.joined(separator: ", ")) (the second "
                            + "would find the first one's claim and answer 409)")
                }
            }
            // A claim that no outbound policy completes would be released every time: the
            // route would look protected and replay nothing.
            let claims = inbound.contains { policies[$0]?.type == .idempotencyInbound }
            let completes = outbound.contains { policies[$0]?.type == .idempotencyOutbound }
            if claims != completes {
                throw policyLists.error(
                    claims
                        ? "idempotency-inbound needs an idempotency-outbound policy in \"outbound\" to store responses"
                        : "idempotency-outbound needs an idempotency-inbound policy in \"inbound\" to claim keys")
            }
        }
        let operationId = try operation.member("operationId")?.string()
        return RouteDefinition(
            path: path, method: method, operationId: operationId, handlerName: handlerName, handlerOptions: options,
            inbound: inbound, outbound: outbound)
    }
}
