// swift-tools-version:6.0
// Idem: an idempotency-key layer for nginx + FastCGI on Linux.
// Targets are layers; every C library is wrapped by exactly one Swift target.
import PackageDescription

let package = Package(
    name: "Idem",
    products: [
        .executable(name: "idem", targets: ["idem"]),
        .executable(name: "idemctl", targets: ["idemctl"]),
    ],
    targets: [
        // C libraries from Debian, one module map each.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Pure Swift layers.
        .target(name: "JSON"),
        .target(name: "HTTP", dependencies: ["JSON"]),
        .target(name: "Digest", dependencies: ["CCrypto"]),
        .target(name: "Idempotency", dependencies: ["HTTP", "Digest"]),
        .target(name: "Payments", dependencies: ["HTTP", "JSON"]),
        // Prometheus-style metrics in memory shared by forked processes; atomics on raw memory in C.
        .target(name: "CAtomics"),
        .target(name: "Metrics", dependencies: ["CAtomics"]),

        // Adapters around C libraries.
        .target(name: "FastCGI", dependencies: ["CFastCGI", "HTTP"]),
        .target(name: "LMDBStore", dependencies: ["CLMDB", "Idempotency"]),
        .target(name: "ProcessLiveness", dependencies: ["Idempotency"]),
        // Shared stores for several machines.
        .target(name: "RedisStore", dependencies: ["CHiredis", "Idempotency"]),
        .target(name: "PostgresStore", dependencies: ["CLibpq", "Idempotency"]),
        // Handlers that forward to an existing app: HTTP via libcurl, FastCGI (PHP-FPM) via our client.
        .target(name: "Upstreams", dependencies: ["CCurl", "HTTP", "Configuration"]),

        // Configuration and wiring.
        .target(name: "Configuration", dependencies: ["JSON", "HTTP", "Idempotency"]),
        .target(
            name: "IdemServer",
            dependencies: [
                "HTTP", "Idempotency", "FastCGI", "LMDBStore", "RedisStore", "PostgresStore", "ProcessLiveness",
                "Configuration", "Payments", "Upstreams", "Metrics",
            ]),
        .executableTarget(name: "idem", dependencies: ["IdemServer"]),
        .target(
            name: "IdemControl", dependencies: ["IdemServer", "LMDBStore", "PostgresStore", "Configuration", "JSON"]),
        .executableTarget(name: "idemctl", dependencies: ["IdemControl"]),

        // Tests, in tiers: pure logic, the real LMDB file, then real nginx + responder.
        .target(
            name: "TestSupport", dependencies: ["HTTP", "Idempotency", "JSON", "PostgresStore"],
            path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"]),
        .testTarget(name: "IdemServerTests", dependencies: ["IdemServer"]),
        .testTarget(name: "IdempotencyTests", dependencies: ["Idempotency", "TestSupport"]),
        .testTarget(name: "ProcessLivenessTests", dependencies: ["ProcessLiveness", "TestSupport"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "TestSupport"]),
        .testTarget(name: "PaymentsTests", dependencies: ["Payments", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "UpstreamsTests", dependencies: ["Upstreams", "TestSupport"]),
        .testTarget(name: "RedisStoreTests", dependencies: ["RedisStore", "TestSupport"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "TestSupport"]),
        .testTarget(name: "LMDBStoreTests", dependencies: ["LMDBStore", "TestSupport"]),
        // A second process for the store tests (opens the same LMDB file and acts on it), and
        // `make bench`'s store runs (filling a store, timing the shared stores).
        .executableTarget(
            name: "idem-store-probe", dependencies: ["LMDBStore", "RedisStore", "PostgresStore"],
            path: "Tests/StoreProbe"),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "JSON"]),
    ]
)
