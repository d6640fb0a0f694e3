/// A small argument parser in ArgumentParser's shape: `--name value`, `--name=value`, flags,
/// positionals, and a usage error that names the offending argument.
public struct CommandLineOptions {
    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var values: [String: String] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// Parses `arguments` (without the program name); `valued` options take a value,
    /// `flagNames` do not.
    public init(_ arguments: [String], valued: Set<String>, flagNames: Set<String>) throws(UsageError) {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            guard arg.hasPrefix("--"), arg.count > 2 else {
                if arg == "-h" { flags.insert("help"); continue }
                positionals.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if flagNames.contains(name) {
                guard inline == nil else { throw UsageError(description: "--\(name) takes no value") }
                flags.insert(name)
            } else if valued.contains(name) {
                if let inline {
                    values[name] = inline
                } else {
                    guard i < arguments.count else { throw UsageError(description: "--\(name) needs a value") }
                    values[name] = arguments[i]
                    i += 1
                }
            } else {
                throw UsageError(description: "unknown option --\(name)")
            }
        }
    }
}
