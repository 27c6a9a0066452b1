import Foundation
import LeadBridgeCore
import LeadBridgeTestSupport

/// Finds the package root and loads the shipped specs the way the CLI does.
enum Fixtures {
    static let root = PackageFixtures.root

    static func sources(_ folder: String) -> [SpecSource] { PackageFixtures.sources(folder) }

    static let library: SpecLibrary = PackageFixtures.library(checks: .full)

    static func spec(_ id: String) -> NetworkSpec {
        guard let s = library.spec(id) else { fatalError("no spec \(id) in Networks/") }
        return s
    }

    static func text(_ relative: String) -> String? {
        FileManager.default.contents(atPath: root + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Loads specs given as in-memory files (plus the shipped templates).
    static func load(_ files: [String: String], templates extra: [String: String] = [:]) -> SpecLibrary {
        let networks = files.sorted { $0.key < $1.key }.map { SpecSource(path: $0.key, bytes: Array($0.value.utf8), layer: 1) }
        let templates = sources("Templates") + extra.sorted { $0.key < $1.key }.map { SpecSource(path: $0.key, bytes: Array($0.value.utf8), layer: 1) }
        return SpecLoader.load(networks: networks, templates: templates)
    }
}
