import Configuration
import Foundation
import TestSupport
import Testing

/// A config directory in /tmp holding a valid policies.json and routes.oas.json that each test
/// then breaks in one place.
final class ConfigFixture {
    static let handlers: Set<String> = ["createPayment", "listPayments", "getPayment"]

    let directory = TemporaryDirectory("idem-config")

    init(
        inboundOptions: String = #"{"ttlSeconds": 86400}"#,
        policies: String? = nil,
        routes: String? = nil,
        server: String? = nil
    ) throws {
        try write(IdemConfiguration.policiesFile, policies ?? Self.policies(inboundOptions: inboundOptions))
        try write(IdemConfiguration.routesFile, routes ?? Self.routes())
        if let server { try write(IdemConfiguration.serverFile, server) }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory.file(name), atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { directory.file(name) }

    func load() throws -> IdemConfiguration {
        try IdemConfiguration.load(directory: directory.path, handlers: Self.handlers)
    }

    /// The error loading must fail with; records an issue when it loads.
    func loadError(sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
        #expect(throws: ConfigError.self, sourceLocation: sourceLocation) {
            try IdemConfiguration.load(directory: self.directory.path, handlers: Self.handlers)
        }
    }

    static func policies(inboundOptions: String = "{}", extra: String = "") -> String {
        """
        {
          "policies": [
            {
              "name": "idempotency-inbound",
              "policyType": "idempotency-inbound",
              "handler": {"export": "IdempotencyInbound", "module": "$import(idem)", "options": \(inboundOptions)}
            },
            {
              "name": "idempotency-outbound",
              "policyType": "idempotency-outbound",
              "handler": {"export": "IdempotencyOutbound", "module": "$import(idem)", "options": {}}
            }\(extra)
          ]
        }
        """
    }

    /// routes.oas.json with one POST /payments operation.
    static func routes(
        routeKey: String = "x-idem-route", export: String = "createPayment",
        policies: String = #"{"inbound": ["idempotency-inbound"], "outbound": ["idempotency-outbound"]}"#
    ) -> String {
        """
        {
          "openapi": "3.1.0",
          "info": {"title": "t", "version": "1"},
          "paths": {
            "/payments": {
              "summary": "payments",
              "post": {
                "operationId": "create-payment",
                "\(routeKey)": {
                  "handler": {"export": "\(export)", "module": "$import(idem)", "options": {}},
                  "policies": \(policies)
                }
              }
            }
          }
        }
        """
    }
}
