import Configuration
import Foundation

/// `idemctl`: the operator's tool. Today it validates configuration (our `nginx -t`);
/// store inspection commands come with the store administration work.
public enum Control {
    public static let usage = """
        OVERVIEW: Administer an Idem installation.

        USAGE: idemctl <subcommand> [--config <dir>]

        SUBCOMMANDS:
          check-config          Validate policies.json, routes.oas.json and server.json
                                exactly as the responder does at start-up.

        OPTIONS:
          --config <dir>        Configuration directory. (default: /etc/idem)
          -h, --help            Show help information.

        EXIT STATUS: 0 valid, 64 usage error, 78 configuration error.
        """

    public static func main(arguments: [String], registry: HandlerRegistry = .standard) -> Int32 {
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions(arguments, valued: ["config"], flagNames: ["help"])
        } catch {
            printError("idemctl: \(error)\n\(usage)\n")
            return 64
        }
        if options.flags.contains("help") || options.positionals.isEmpty {
            print(usage)
            return options.flags.contains("help") ? 0 : 64
        }
        switch options.positionals[0] {
        case "check-config":
            let directory = options.values["config"] ?? "/etc/idem"
            do {
                let configuration = try IdemConfiguration.load(directory: directory, handlers: registry.names)
                try registry.validate(configuration)
                print(
                    "idemctl: configuration in \(configuration.directory) is valid (\(configuration.routes.count) routes, \(configuration.policies.count) policies)"
                )
                return 0
            } catch {
                printError("idemctl: \(error)\n")
                return 78
            }
        default:
            printError("idemctl: unknown subcommand \(options.positionals[0])\n\(usage)\n")
            return 64
        }
    }
}
