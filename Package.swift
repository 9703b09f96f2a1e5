// swift-tools-version:6.0
import PackageDescription

// Library targets carry the logic; the executables (spoold, mkcall, ami-test-server, spoold-bench)
// only parse flags and call into them.
let package = Package(
    name: "spoold",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "spoold", targets: ["spoold"]),
        .executable(name: "mkcall", targets: ["mkcall"]),
        .executable(name: "ami-test-server", targets: ["ami-test-server"]),
        .library(name: "CallFile", targets: ["CallFile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // The call-file format: model, parser with diagnostics, writer, retry records. Pure, no I/O.
        // JSON string literals, shared by the check report, the JSON log format and the result log.
        .target(name: "JSONString"),
        // Bytes that need not be UTF-8 in a String, losslessly: call-file values on their way to the AMI wire.
        .target(name: "ByteText"),
        .target(name: "CallFile", dependencies: ["JSONString", "ByteText"]),
        // The version (written once, in BuildInfo.swift) and the commit scripts/package passes in.
        .target(name: "CBuildInfo"),
        .target(name: "BuildInfo", dependencies: ["CBuildInfo"]),

        // libinotifytools (Debian: libinotifytools0-dev), as the user asked.
        .systemLibrary(
            name: "CInotifyTools",
            providers: [.apt(["libinotifytools0-dev"])]
        ),
        // One directory -> an async sequence of changes. Never opens call files.
        .target(
            name: "SpoolWatcher",
            dependencies: [
                "CInotifyTools",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // spoold's one HTTP client (AMI over HTTP, `spoold status`): kept-alive pooled connections on
        // async-http-client, a deadline per request, cancellation.
        .target(
            name: "PooledHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // AMI: codec (bytes <-> messages), connection state machine (pure), client on SwiftNIO.
        .target(
            name: "AMI",
            dependencies: [
                "ByteText",
                "PooledHTTP",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `<Tech>/<outcome>[/<ring-ms>[/<talk-ms>]]` convention shared by spoold's simulate backend
        // and the AMI test server, so both PBXs behave alike for the same channel.
        .target(name: "SimulatedCalls"),
        // An AMI server that speaks Asterisk 22's wire format, for tests and benchmarks.
        .target(
            name: "AMITestServer",
            dependencies: [
                "AMI",
                "SimulatedCalls",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ami-test-server",
            dependencies: [
                "AMITestServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The engine: scheduler, dialler with limits, the simulate backend, finisher, recovery. It knows
        // backends only through `CallBackend`; the AMI ones are in SpoolerAMI.
        .target(
            name: "Spooler",
            dependencies: [
                "CallFile",
                "SpoolWatcher",
                "SimulatedCalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Calls through Asterisk's manager interface: the AMI backend, and the pool of servers (TCP or
        // HTTP each) with its picker and the pbx_spool check.
        .target(
            name: "SpoolerAMI",
            dependencies: [
                "Spooler",
                "AMI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Queue control of the running daemon over a local Unix socket: the line codec, the socket
        // service (SwiftNIO), the command-line client and the listing's text and JSON.
        .target(
            name: "SpoolControl",
            dependencies: [
                "Spooler",
                "JSONString",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The sd_notify protocol over a unix datagram socket (no libsystemd): READY, STATUS, RELOADING,
        // STOPPING, and the watchdog as a Service.
        .target(
            name: "SystemdNotify",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Log lines for journald (priority prefixes) and JSON, chosen by --log-format or $JOURNAL_STREAM.
        .target(
            name: "LogFormats",
            dependencies: ["JSONString", .product(name: "Logging", package: "swift-log")]
        ),
        // What spoold reports about itself, fed one way by the engine's events: Prometheus metrics and
        // their HTTP endpoint, the status snapshot behind `spoold status`, the result log, the on_finish hook.
        .target(
            name: "SpoolObservability",
            dependencies: [
                "ByteText",
                "PooledHTTP",
                "CallFile",
                "JSONString",
                "Spooler",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // spoold.conf: the Asterisk-style parser, the settings model, flags-over-file merging, secrets.
        .target(
            name: "SpooldConfig",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),

        // Call flags and the atomic spool writer, shared by mkcall and `spoold originate`.
        .target(
            name: "MakeCall",
            dependencies: [
                "BuildInfo",
                "CallFile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "spoold",
            dependencies: [
                "BuildInfo",
                "CallFile",
                "Spooler",
                "SpoolerAMI",
                "AMI",
                "MakeCall",
                "SystemdNotify",
                "LogFormats",
                "SpoolObservability",
                "SpooldConfig",
                "SpoolControl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // Linked by lld with packed relative relocations (RELR; glibc 2.36, Debian 12, the packages'
            // target): the loader reads all of `.rela.dyn` at each start, 1.5 MB of relative relocations
            // (3 MB with the static runtime), and those pages stay resident for the daemon's life; packed,
            // they take 13 KB. gold, the linker swiftc picks by default here, cannot pack them.
            linkerSettings: [
                .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(platforms: [.linux])),
            ]
        ),
        .executableTarget(
            name: "mkcall",
            dependencies: ["MakeCall"]
        ),
        // Benchmarks print figures; they are never timed assertions in tests.
        .executableTarget(
            name: "spoold-bench",
            dependencies: [
                "CallFile",
                "SpoolWatcher",
                "AMI",
                "AMITestServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fault injection (kill -9, AMI restart, disk full, hostile input, burst) against the real spoold.
        .executableTarget(
            name: "spoold-faults",
            dependencies: [
                "AMITestServer",
                "SimulatedCalls",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "CallFileTests", dependencies: ["CallFile", "ByteText", "MakeCall", "TestSupport"]),
        .testTarget(name: "SpoolWatcherTests", dependencies: ["SpoolWatcher", "TestSupport"]),
        .testTarget(
            name: "AMITests",
            dependencies: [
                "AMI",
                "ByteText",
                "AMITestServer",
                "SimulatedCalls",
                "TestSupport",
                "TestCertificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SpoolerTests", dependencies: ["Spooler", "CallFile", "AMITestServer", "SimulatedCalls", "TestSupport", "EngineTestSupport"]),
        // The engine on a temporary spool with a manual clock, for the shell's integration tests of both
        // SpoolerTests and SpoolerAMITests.
        .target(
            name: "EngineTestSupport",
            dependencies: ["Spooler", "CallFile", "SpoolWatcher", "TestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/EngineTestSupport"
        ),
        .testTarget(
            name: "SpoolerAMITests",
            dependencies: ["SpoolerAMI", "Spooler", "AMI", "CallFile", "AMITestServer", "SpoolWatcher", "TestSupport", "EngineTestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Shared by several test targets: the receiving end of NOTIFY_SOCKET, the result-log line decoder,
        // SPOOLD_TEST_TIME_SCALE (longer deadlines on waits for slow, sanitized builds).
        // Also the fault tool's: one waitUntil, one log capture, one seeded generator.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        // A CA and server certificates made in the test (swift-certificates), for the TLS tests.
        .target(
            name: "TestCertificates",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TestCertificates"
        ),
        .testTarget(
            name: "SystemdNotifyTests",
            dependencies: ["SystemdNotify", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "LogFormatTests",
            dependencies: ["LogFormats", "JSONString", "AMI", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "SpoolObservability",
                "Spooler",
                "CallFile",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SpooldConfigTests", dependencies: ["SpooldConfig", "Spooler"]),
        .testTarget(name: "SpoolControlTests", dependencies: ["SpoolControl", "Spooler", "TestSupport"]),
        // Run the built spoold and mkcall binaries on a temporary spool.
        .testTarget(name: "EndToEndTests", dependencies: ["CallFile", "ByteText", "AMITestServer", "TestSupport", "TestCertificates"]),
        // Runs spoold-faults at its reduced size (the full size is scripts/fault-suite).
        .testTarget(name: "FaultTests", dependencies: ["TestSupport"]),
    ]
)
