import Configuration
import Foundation
import IdemServer

/// `idemctl`: the operator's tool. It reads the same configuration as the responders and
/// opens the same store file beside them (LMDB readers never block writers).
public enum Control {
    /// Exit statuses, as documented in the README and `--help`.
    enum Exit {
        static let ok: Int32 = 0
        static let notFound: Int32 = 1
        static let corrupt: Int32 = 2
        static let usage: Int32 = 64
        static let unavailable: Int32 = 69
        static let config: Int32 = 78
    }

    static let usage = """
        OVERVIEW: Administer an Idem installation: configuration and the idempotency store.

        USAGE: idemctl <subcommand> [options]

        SUBCOMMANDS:
          check-config          Validate the configuration exactly as idem does at start-up.
          stats                 Records by state, bytes used and free, oldest and newest, evictions.
          get <key>             Show the records of an idempotency key (every route and principal).
          list                  List records, newest first.
          purge <key>...        Delete the records of keys, in flight or not, so clients may reuse them.
          sweep                 Delete expired records now.
          verify                Check every record's checksum; report the ones that fail.
          migrate               Create or upgrade the PostgreSQL schema (store kind "postgres").

        OPTIONS:
          --config <dir>        Configuration directory. (default: /etc/idem)
          --state-dir <dir>     Override server.json's stateDirectory.
          --json                Machine-readable output.
          -h, --help            Show help information (also after a subcommand).

        EXIT STATUS: 0 success, 1 key not found, 2 verify found corrupt records, 64 usage error,
        69 store cannot be opened, 78 configuration error.
        """

    static let help: [String: String] = [
        "check-config": """
        USAGE: idemctl check-config [--config <dir>]

        Loads policies.json, routes.oas.json and server.json and validates every policy and
        handler option. Exit 0 when valid, 78 with file, JSON path and reason when not.
        """,
        "stats": """
        USAGE: idemctl stats [--config <dir>] [--state-dir <dir>] [--json]

        Counts records by state (in-flight, complete, unavailable, expired, corrupt), shows the
        map size, the bytes in use and free, the oldest and newest records and the evictions.
        """,
        "get": """
        USAGE: idemctl get <key> [--principal <p>] [--route <r>] [--method <m>] [--json]

        Shows every record whose idempotency key is <key>, narrowed by the stored principal
        (e.g. user:alice), route template (e.g. /payments) or method. Exit 1 when none.
        """,
        "list": """
        USAGE: idemctl list [--state in-flight|complete|unavailable] [--limit <n>] [--json]

        Lists records newest first (default limit 50).
        """,
        "purge": """
        USAGE: idemctl purge <key>... [--principal <p>] [--route <r>] [--method <m>] [--json]
               idemctl purge --store-key <hex>

        Deletes the records of each key, whatever their state. Use it to unstick a key whose
        request will never finish (strict mode) or to remove a corrupt record. A request still
        running for a purged key keeps running; its completion is then refused (fencing).
        Exit 1 when no record matched.
        """,
        "sweep": """
        USAGE: idemctl sweep [--json]

        Deletes every expired record now (the responders also sweep every 30 s).
        """,
        "migrate": """
        USAGE: idemctl migrate [--config <dir>]

        For "store": {"kind": "postgres"}: creates the idem_records table (or upgrades it) in
        the database server.json names. Idempotent; idem refuses to start until it has run.
        Other stores need no migration.
        """,
        "verify": """
        USAGE: idemctl verify [--json]

        Decodes every record and checks its CRC-32C. Exit 2 if any record is corrupt; such
        records are never replayed (requests for them get 503) until purged.
        """,
    ]

    public static func main(arguments: [String], registry: HandlerRegistry = .standard) -> Int32 {
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions(
                arguments,
                valued: ["config", "state-dir", "principal", "route", "method", "state", "limit", "store-key"],
                flagNames: ["help", "json"])
        } catch {
            printError("idemctl: \(error)\n\(usage)\n")
            return Exit.usage
        }
        guard let command = options.positionals.first else {
            print(usage)
            return options.flags.contains("help") ? Exit.ok : Exit.usage
        }
        if options.flags.contains("help") {
            guard let text = help[command] else {
                print(usage)
                return Exit.ok
            }
            print(text)
            return Exit.ok
        }
        let directory = options.values["config"] ?? "/etc/idem"
        if command == "check-config" {
            do {
                let configuration = try IdemConfiguration.load(directory: directory, handlers: registry.names)
                try registry.validate(configuration)
                print(
                    "idemctl: configuration in \(configuration.directory) is valid "
                        + "(\(configuration.routes.count) routes, \(configuration.policies.count) policies)")
                return Exit.ok
            } catch {
                printError("idemctl: \(error)\n")
                return Exit.config
            }
        }
        if command == "migrate" { return StoreCommands.migrate(configDirectory: directory) }
        guard help[command] != nil else {
            printError("idemctl: unknown subcommand \(command)\n\(usage)\n")
            return Exit.usage
        }
        return StoreCommands.run(command, options: options, configDirectory: directory)
    }
}
