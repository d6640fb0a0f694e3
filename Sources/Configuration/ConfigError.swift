/// A configuration problem, always naming the file, the JSON path and what was expected.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    /// A JSONPath such as `$.policies[0].handler.options.ttlSeconds`; `$` for the whole file.
    public let path: String
    public let message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String { "\(file): \(path): \(message)" }
}
