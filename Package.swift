// swift-tools-version: 6.1
// The package holds two products that feed each other: `mox`, the mail server and its
// command line, and `sitegen`, which builds the project's website and renders the
// config and command references from the server's own definitions.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mox-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mox", targets: ["moxserver"]),
        .executable(name: "sitegen", targets: ["sitegen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // HTTP: HummingbirdCore's HTTP/1.1 channel on the shared connection layer; default traits off
        // (no swift-configuration, no full Foundation).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: - Pure modules (no NIO, no I/O beyond what their callers hand them)
        .target(name: "Sconf", swiftSettings: strict),
        .target(name: "MailConfig", dependencies: ["Sconf"], swiftSettings: strict),
        .systemLibrary(
            name: "CCMark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),
        .target(name: "SiteBuilder", dependencies: ["CCMark", "CZlib"], swiftSettings: strict),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "MailAddress", swiftSettings: strict),
        .target(name: "MailDNS", dependencies: ["MailAddress"], swiftSettings: strict),
        // SPF (and next DKIM, DMARC, iprev) over any MailDNS.Resolver.
        .target(
            name: "MailAuth",
            dependencies: [
                "MailDNS", "MailAddress", "MailMessage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .target(name: "MailMessage", dependencies: ["MailAddress"], swiftSettings: strict),
        .target(name: "SMTPProtocol", dependencies: ["MailAddress"], swiftSettings: strict),
        .target(name: "IMAPProtocol", swiftSettings: strict),
        .target(
            name: "MailSASL",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),

        // MARK: - Storage (files + SQLite; no NIO)
        .target(name: "MailSpool", dependencies: ["MailMessage"], swiftSettings: strict),
        .target(
            name: "MailStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the per-message loops (RawStatement).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                "MailSASL",
                "MailSpool",
            ],
            swiftSettings: strict
        ),

        // MARK: - Delivery (values, the store and files; no NIO)
        .target(
            name: "MailDelivery",
            dependencies: [
                "MailQueue",
                "MailConfig", "MailAddress", "MailMessage", "MailSpool", "MailStore", "SMTPProtocol", "MailAuth", "MailDNS", "Sconf",
                "MailMetrics", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Administration: the DNS records of a domain, and checking what is published
        .target(
            name: "MailAdmin",
            dependencies: ["MailConfig", "MailAddress", "MailAuth", "MailDNS", "MailDelivery"],
            swiftSettings: strict
        ),

        // MARK: - Metrics (swift-metrics, exported in Prometheus's text format)
        .target(
            name: "MailMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Logging (swift-log only)
        .target(
            name: "MailLog",
            dependencies: [.product(name: "Logging", package: "swift-log"), "MailMetrics"],
            swiftSettings: strict
        ),

        // MARK: - Network servers (SwiftNIO)
        .target(
            name: "MailTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailNetwork",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                "MailLog",
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DNSResolver",
            dependencies: [
                "MailDNS", "MailAddress", "MailMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailQueue",
            dependencies: [
                "MailMessage",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SMTPClient",
            dependencies: [
                "SMTPProtocol", "MailSASL", "MailAddress",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SMTPServer",
            dependencies: [
                "SMTPProtocol", "MailSASL", "MailTLS", "MailMessage", "MailAddress", "MailNetwork", "MailSpool", "MailLog",
                "MailMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "IMAPServer",
            dependencies: [
                "IMAPProtocol", "MailStore", "MailSASL", "MailTLS", "MailMessage", "MailNetwork", "MailSpool", "MailLog", "CZlib",
                "MailMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailHTTP",
            dependencies: [
                "MailConfig", "MailAddress", "MailNetwork", "MailLog", "MailMetrics", "MailTLS",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "CZlib",
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MoxRuntime",
            dependencies: [
                "MailConfig", "MailStore", "MailMessage", "MailAddress", "MailTLS", "SMTPServer", "SMTPProtocol",
                "MailSASL", "IMAPServer", "MailSpool", "MailNetwork", "MailLog", "MailDelivery", "MailHTTP", "MailMetrics",
                "MailAuth", "MailDNS", "DNSResolver", "MailQueue", "SMTPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),

        // MARK: - The command tree (definitions and help only; read by sitegen)
        .target(
            name: "MoxCommands",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),

        // MARK: - Executables
        .executableTarget(
            name: "moxserver",
            dependencies: [
                "MoxCommands",
                "MailAdmin",
                "MoxRuntime",
                "MailDelivery",
                "MailConfig",
                "MailStore",
                "MailMessage",
                "MailAddress",
                "MailTLS",
                "MailLog",
                "MailHTTP",
                "MailDNS",
                "DNSResolver",
                "MailAuth",
                "MailQueue",
                "SMTPClient",
                "SMTPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "Sconf",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sitegen",
            dependencies: [
                "SiteBuilder", "MailConfig", "MoxCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // Not products: a helper the crash test runs and kills, and the store benchmarks (`make bench`).
        .target(name: "CrashTestSupport", swiftSettings: strict),
        .executableTarget(
            name: "mox-crashtest",
            dependencies: ["MailStore", "CrashTestSupport"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mox-bench",
            dependencies: [
                "MailStore", "MailMessage", "MailAuth", "MailDNS", "DNSResolver", "MailAddress",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Tests
        .testTarget(name: "SconfTests", dependencies: ["Sconf"], swiftSettings: strict),
        .testTarget(
            name: "MailLogTests",
            dependencies: ["MailLog", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailDeliveryTests",
            dependencies: [
                "MailDelivery", "MailConfig", "MailAddress", "SMTPProtocol", "MailAuth", "MailDNS", "MailSpool", "MailMessage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "MailNetworkTests", dependencies: ["MailNetwork"], swiftSettings: strict),
        .testTarget(
            name: "MailHTTPTests",
            dependencies: ["MailHTTP", "MailConfig", "MailAddress", "MailMetrics", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(name: "MailSpoolTests", dependencies: ["MailSpool", "MailMessage"], swiftSettings: strict),
        .testTarget(
            name: "SMTPServerTests",
            dependencies: [
                "SMTPServer", "SMTPProtocol", "MailSASL", "MailAddress", "MailSpool", "MailNetwork",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MoxRuntimeTests",
            dependencies: [
                "MailDelivery",
                .product(name: "Logging", package: "swift-log"),
                "MoxRuntime", "MailConfig", "MailAddress", "MailStore", "SMTPProtocol", "SMTPServer", "MailSASL", "MailTLS",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MoxServerTests",
            dependencies: [
                "moxserver", "MoxCommands", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "MailAddressTests", dependencies: ["MailAddress"], swiftSettings: strict),
        .testTarget(name: "MailDNSTests", dependencies: ["MailDNS", "MailAddress"], swiftSettings: strict),
        .testTarget(
            name: "MailAuthTests", dependencies: ["MailAuth", "MailDNS", "MailAddress"], exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DNSResolverTests",
            dependencies: [
                "DNSResolver", "MailDNS", "MailAddress",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SMTPClientTests", dependencies: ["SMTPClient", "SMTPProtocol", "SMTPServer", "MailSpool", "MailSASL", "MailAddress"], swiftSettings: strict),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue", "MailMessage"], swiftSettings: strict),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol", "MailAddress"], swiftSettings: strict),
        .testTarget(name: "IMAPProtocolTests", dependencies: ["IMAPProtocol"], swiftSettings: strict),
        .testTarget(
            name: "IMAPServerTests",
            dependencies: [
                "IMAPServer", "IMAPProtocol", "MailStore", "MailSASL", "MailMessage", "MailSpool", "MailNetwork",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailSASLTests",
            dependencies: ["MailSASL", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailMessageTests",
            dependencies: ["MailMessage", "MailAddress"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailStoreTests",
            dependencies: [
                "MailStore",
                "MailSASL",
                "CrashTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailConfigTests",
            dependencies: ["MailConfig", "Sconf"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        // The network-facing parsers as fuzz targets; MoxFuzzTests replays their corpora.
        .target(name: "MoxFuzz", dependencies: ["MailDNS", "MailAuth"], swiftSettings: strict),
        .testTarget(
            name: "MoxFuzzTests",
            dependencies: ["MoxFuzz"],
            exclude: ["Corpus"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SiteBuilderTests",
            dependencies: ["SiteBuilder"],
            exclude: ["Snapshots", "Fixtures"],
            swiftSettings: strict
        ),
    ]
)

// libFuzzer's driver for MoxFuzz, only in scripts/fuzz's build (MOX_FUZZ=1 and
// -sanitize=fuzzer,address): it calls LLVMFuzzerRunDriver, which only that link provides.
if Context.environment["MOX_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "mox-fuzz", dependencies: ["MoxFuzz"], swiftSettings: strict))
}
