import Configuration
import Foundation
import HTTP
import Payments
import Upstreams

/// What a handler factory may use: its options (with file and path for errors) and the
/// responder's state directory and shared objects.
public final class HandlerEnvironment: @unchecked Sendable {
    public let stateDirectory: String
    private var shared: [String: Any] = [:]

    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

    /// One instance per `name` for all routes of this responder (e.g. one ledger file).
    public func shared<T>(_ name: String, _ make: () throws -> T) rethrows -> T {
        if let existing = shared[name] as? T { return existing }
        let made = try make()
        shared[name] = made
        return made
    }
}

/// Handlers compiled into the binary, by the name routes use in `handler.export`.
/// To serve your own business logic, register a factory under a new name and point
/// the route at it (README, "Swap the handler").
public struct HandlerRegistry: Sendable {
    /// Builds a handler once the responder's environment exists.
    public typealias Builder = (HandlerEnvironment) throws -> any Handler
    /// Validates `handler.options` without side effects (throwing a `ConfigError` that names
    /// file and path) and returns the builder; `idemctl check-config` runs only this part.
    public typealias Factory = @Sendable (ConfigValue) throws -> Builder

    public private(set) var factories: [String: Factory] = [:]

    public init() {}

    public mutating func register(_ name: String, _ factory: @escaping Factory) { factories[name] = factory }

    public var names: Set<String> { Set(factories.keys) }

    /// The example payments handlers: `createPayment`, `getPayment`, `listPayments`, sharing
    /// one ledger file `payments.jsonl` in the state directory.
    public static var standard: HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register("createPayment") { options in
            _ = try options.members(allowed: ["latencyMs"])
            let latency = try options.member("latencyMs")?.integer(in: 0...60_000) ?? 0
            return { env in
                CreatePayment(
                    ledger: try ledger(env), now: { Int64(Date().timeIntervalSince1970) },
                    latencyMilliseconds: Int(latency))
            }
        }
        registry.register("getPayment") { options in
            _ = try options.members(allowed: [])
            return { env in GetPayment(ledger: try ledger(env)) }
        }
        registry.register("listPayments") { options in
            _ = try options.members(allowed: [])
            return { env in ListPayments(ledger: try ledger(env)) }
        }
        registry.register("staticResponse", StaticResponseHandler.factory)
        registry.register("fastcgiHandler") { options in
            let handler = try FastCGIUpstreamHandler.make(
                options: options, log: { msg in printError("idem: fastcgi: \(msg)\n") })
            return { _ in handler }
        }
        registry.register("urlRewriteHandler") { options in
            let handler = try URLRewriteHandler.make(options: options)
            return { _ in handler }
        }
        return registry
    }

    /// Runs every route's factory on its options: the handler half of `check-config`.
    public func validate(_ configuration: IdemConfiguration) throws {
        for route in configuration.routes { _ = try factories[route.handlerName]?(route.handlerOptions) }
    }

    private static func ledger(_ env: HandlerEnvironment) throws -> any PaymentLedger {
        try env.shared("payments-ledger") {
            try FileLedger(path: env.stateDirectory + "/payments.jsonl") as any PaymentLedger
        }
    }
}
