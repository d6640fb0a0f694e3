import Foundation
import JSON

/// Reads and parses one configuration file; syntax errors carry line and column.
enum ConfigFile {
    static func load(_ path: String, displayName: String) throws(ConfigError) -> ConfigValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason =
                FileManager.default.fileExists(atPath: path) ? "cannot be read (check permissions)" : "does not exist"
            throw ConfigError(file: displayName, path: "$", message: "the file \(reason)")
        }
        return try parse(Array(data), displayName: displayName)
    }

    static func parse(_ bytes: [UInt8], displayName: String) throws(ConfigError) -> ConfigValue {
        do {
            return ConfigValue(try JSONParser.parse(bytes), file: displayName)
        } catch {
            throw ConfigError(file: displayName, path: "$", message: "invalid JSON at \(error)")
        }
    }
}
