// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "aios-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aiosd", targets: ["aiosd"]),
        .executable(name: "aiosctl", targets: ["aiosctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C at the edge: system libraries plus prefixed, non-variadic shims.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // libcurl is loaded when first needed (dlopen), not linked: see Sources/CCurl/include/shim.h.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CTLS", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CLoader"),

        // The wire contract of the control socket. FoundationEssentials only; both sides import it.
        .target(name: "AIOSAPI"),

        .target(name: "AIOSSystemd", dependencies: [
            "CSystemd",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "AIOSHTTP", dependencies: ["CCurl", "CTLS"]),
        .target(name: "AIOSCrypto", dependencies: ["COpenSSL"]),

        // The domain: no I/O framework, no wire types.
        .target(name: "AIOSCore", dependencies: [
            "AIOSHTTP", "AIOSCrypto", "CYAML",
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "AIOSDaemon", dependencies: [
            "AIOSAPI", "AIOSCore", "AIOSSystemd", "AIOSHTTP", "AIOSCrypto", "CMalloc", "CLoader",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "AIOSClient", dependencies: ["AIOSAPI"]),
        .target(name: "AIOSCtl", dependencies: [
            "AIOSAPI", "AIOSClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Entry points only.
        .executableTarget(name: "aiosd", dependencies: ["AIOSDaemon"]),
        .executableTarget(name: "aiosctl", dependencies: ["AIOSCtl"]),

        .target(name: "AIOSTestSupport", path: "Tests/AIOSTestSupport"),
        .testTarget(name: "AIOSAPITests", dependencies: ["AIOSAPI"], exclude: ["Golden"]),
        .testTarget(name: "AIOSSystemdTests", dependencies: ["AIOSSystemd", "AIOSTestSupport",
            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AIOSCoreTests", dependencies: ["AIOSCore", "AIOSTestSupport",
            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AIOSCryptoTests", dependencies: ["AIOSCrypto", "AIOSTestSupport"]),
        .testTarget(name: "AIOSCtlTests", dependencies: ["AIOSCtl",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "AIOSDaemonTests", dependencies: [
            "AIOSDaemon", "AIOSClient", "AIOSAPI", "AIOSCore", "AIOSSystemd", "AIOSTestSupport", "aiosctl",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: ["AIOSAPI", "AIOSTestSupport", "aiosd", "aiosctl"]),
    ]
)

// `make fuzz` only (AIOS_FUZZ=1): the libFuzzer target over the parsers of untrusted input. Not part of a normal
// build or the package: it needs `-sanitize=fuzzer` and supplies no `main` of its own.
if Context.environment["AIOS_FUZZ"] != nil {
    package.targets.append(.target(name: "CAIOSFuzz", path: "Tests/fuzz/CAIOSFuzz"))
    package.targets.append(.executableTarget(name: "aios-fuzz", dependencies: ["AIOSCore", "AIOSAPI", "AIOSCrypto", "AIOSHTTP", "CAIOSFuzz"],
                                             path: "Tests/fuzz/aios-fuzz"))
}
