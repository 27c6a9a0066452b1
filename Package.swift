// swift-tools-version:6.0
// LeadBridge: no third-party Swift packages (the user's requirement). System C libraries
// come in through systemLibrary targets; Debian packages are named in `providers`.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "LeadBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "leadbridge", targets: ["leadbridge"]),
        .library(name: "LeadBridgeCore", targets: ["LeadBridgeCore"]),
        .library(name: "LeadBridgeEngine", targets: ["LeadBridgeEngine"]),
        .library(name: "LeadBridgeStore", targets: ["LeadBridgeStore"]),
    ],
    targets: [
        // OpenSSL's headers only: libcrypto is loaded with dlopen on the first digest
        // (Sources/LeadBridgeCrypto/LibCrypto.swift), so no pkgConfig (it would add -lcrypto).
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // libpq's headers only: loaded with dlopen on first use (Sources/LeadBridgeStore/Postgres/LibPQ.swift).
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", providers: [.apt(["libpq-dev"])]),
        // epoll and eventfd for the receiver's event loop (kernel interfaces: nothing to link).
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // libcurl's headers only: the library is loaded with dlopen on the first request (see
        // Sources/CCurl/shim.h), so no pkgConfig (it would link -lcurl into every command).
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "LeadBridgeCrypto", dependencies: ["CCrypto"], swiftSettings: strict),
        .target(name: "LeadBridgeStore", dependencies: ["CSQLite", "CPostgres", "LeadBridgeCore"], swiftSettings: strict),
        .target(name: "LeadBridgeCore", dependencies: ["LeadBridgeCrypto"], swiftSettings: strict),
        .target(name: "LeadBridgeNet", dependencies: ["CCurl", "CEpoll", "LeadBridgeCore"], swiftSettings: strict),
        .target(name: "LeadBridgeEngine", dependencies: ["LeadBridgeCore", "LeadBridgeNet", "LeadBridgeStore"], swiftSettings: strict),
        // The network emulator with its fault injection: for `demo`, `emulate` and the tests,
        // never on the production path (the Engine does not depend on it).
        .target(name: "LeadBridgeEmulator", dependencies: ["LeadBridgeCore", "LeadBridgeCrypto", "LeadBridgeNet", "LeadBridgeEngine", "LeadBridgeStore"],
                swiftSettings: strict),
        // The operator's console and /metrics on serve (pages, sessions, metrics).
        .target(name: "LeadBridgeConsole", dependencies: ["LeadBridgeCore", "LeadBridgeCrypto", "LeadBridgeNet", "LeadBridgeEngine", "LeadBridgeStore"],
                swiftSettings: strict),
        .target(name: "LeadBridgeCLI", dependencies: ["LeadBridgeCore", "LeadBridgeNet", "LeadBridgeEngine", "LeadBridgeStore", "LeadBridgeEmulator", "LeadBridgeConsole"],
                swiftSettings: strict),
        .executableTarget(name: "leadbridge", dependencies: ["LeadBridgeCLI"], swiftSettings: strict),
        .target(name: "LeadBridgeTestSupport", dependencies: ["LeadBridgeCore"], path: "Tests/LeadBridgeTestSupport", swiftSettings: strict),
        .testTarget(name: "LeadBridgeCryptoTests", dependencies: ["LeadBridgeCrypto"]),
        .testTarget(name: "LeadBridgeCoreTests", dependencies: ["LeadBridgeCore", "LeadBridgeTestSupport"]),
        .testTarget(name: "LeadBridgeNetTests", dependencies: ["LeadBridgeNet", "LeadBridgeCore", "LeadBridgeTestSupport"]),
        .testTarget(name: "LeadBridgeEngineTests", dependencies: ["LeadBridgeEngine", "LeadBridgeEmulator", "LeadBridgeTestSupport", "LeadBridgeStore", "LeadBridgeNet", "LeadBridgeCore"]),
        .testTarget(name: "LeadBridgeStoreTests", dependencies: ["LeadBridgeStore", "LeadBridgeCore", "LeadBridgeTestSupport"]),
        .testTarget(name: "LeadBridgeConsoleTests", dependencies: ["LeadBridgeConsole", "LeadBridgeCLI", "LeadBridgeTestSupport", "LeadBridgeCore", "LeadBridgeCrypto",
                                                                   "LeadBridgeEngine", "LeadBridgeNet", "LeadBridgeStore"]),
        .testTarget(name: "LeadBridgeCLITests", dependencies: ["LeadBridgeCLI", "LeadBridgeEmulator", "LeadBridgeTestSupport", "LeadBridgeCore", "LeadBridgeEngine", "LeadBridgeNet", "LeadBridgeStore"]),
    ]
)
