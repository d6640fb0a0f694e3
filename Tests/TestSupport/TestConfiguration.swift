import Foundation

/// Writes a config directory (policies.json, routes.oas.json) for end-to-end tests: each
/// route may carry its own idempotency-inbound options.
public struct TestRoute: Sendable {
    public var path: String
    public var method: String
    public var handler: String
    /// JSON object text for `handler.options`.
    public var handlerOptions: String
    /// JSON object text for this route's idempotency-inbound options; nil = no idempotency.
    public var idempotency: String?

    public init(
        _ method: String, _ path: String, handler: String, handlerOptions: String = "{}", idempotency: String? = "{}"
    ) {
        self.method = method
        self.path = path
        self.handler = handler
        self.handlerOptions = handlerOptions
        self.idempotency = idempotency
    }
}

public enum TestConfiguration {
    /// The shipped routes (keyed POST /payments, GET list and one) plus `extra`.
    public static func write(_ extra: [TestRoute], to directory: String) throws {
        let routes =
            [
                TestRoute("post", "/payments", handler: "createPayment"),
                TestRoute("get", "/payments", handler: "listPayments", idempotency: nil),
                TestRoute("get", "/payments/{id}", handler: "getPayment", idempotency: nil),
            ] + extra
        var policies = [
            #"{"name": "idempotency-outbound", "policyType": "idempotency-outbound", "handler": {"options": {}}}"#
        ]
        var byPath: [String: [String]] = [:]
        var order: [String] = []
        for (index, route) in routes.enumerated() {
            var policyLists = ""
            if let options = route.idempotency {
                policies.append(
                    #"{"name": "inbound-\#(index)", "policyType": "idempotency-inbound", "handler": {"options": \#(options)}}"#
                )
                policyLists =
                    #", "policies": {"inbound": ["inbound-\#(index)"], "outbound": ["idempotency-outbound"]}"#
            }
            let operation =
                #""\#(route.method)": {"x-idem-route": {"handler": {"export": "\#(route.handler)", "options": \#(route.handlerOptions)}\#(policyLists)}}"#
            if byPath[route.path] == nil { order.append(route.path) }
            byPath[route.path, default: []].append(operation)
        }
        let paths = order.map { #""\#($0)": {\#(byPath[$0]!.joined(separator: ", "))}"# }.joined(separator: ",\n")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #"{"policies": [\#(policies.joined(separator: ",\n"))]}"#.write(
            toFile: directory + "/policies.json", atomically: true, encoding: .utf8)
        try #"{"openapi": "3.1.0", "info": {"title": "test", "version": "1"}, "paths": {\#(paths)}}"#.write(
            toFile: directory + "/routes.oas.json", atomically: true, encoding: .utf8)
    }
}
