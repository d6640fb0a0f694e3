import Foundation

/// Everything a responder needs, read from a config directory and validated as a whole
/// before anything starts (`idemctl check-config` runs exactly this).
public struct IdemConfiguration: Sendable {
    public var server: ServerSettings
    public var policies: [String: PolicyDefinition]
    public var routes: [RouteDefinition]
    public var directory: String

    public static let policiesFile = "policies.json"
    public static let routesFile = "routes.oas.json"
    public static let serverFile = "server.json"

    /// Loads `policies.json`, `routes.oas.json` and the optional `server.json` from `directory`.
    /// `handlers` are the handler names compiled into the binary.
    public static func load(directory: String, handlers: Set<String>) throws(ConfigError) -> IdemConfiguration {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        func display(_ name: String) -> String { "\(dir)/\(name)" }
        let policies = try PoliciesFile.decode(
            try ConfigFile.load(display(policiesFile), displayName: display(policiesFile)))
        let routes = try RoutesFile.decode(
            try ConfigFile.load(display(routesFile), displayName: display(routesFile)), policies: policies,
            handlers: handlers)
        let server = try loadServerSettings(directory: dir)
        if let metrics = server.metricsPath, let route = routes.first(where: { $0.path == metrics }) {
            throw ConfigError(
                file: display(serverFile), path: "$.metricsPath",
                message: "\(metrics) is also a route in \(routesFile) (\(route.method.rawValue) \(route.path)); "
                    + "choose another metricsPath, or null to turn metrics off")
        }
        return IdemConfiguration(server: server, policies: policies, routes: routes, directory: dir)
    }

    /// Only `server.json` (defaults when absent): where the socket and the store are.
    public static func loadServerSettings(directory: String) throws(ConfigError) -> ServerSettings {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let path = "\(dir)/\(serverFile)"
        guard FileManager.default.fileExists(atPath: path) else { return ServerSettings() }
        return try ServerFile.decode(try ConfigFile.load(path, displayName: path))
    }
}
