import Foundation
import LeadBridgeCore

/// The package's own files for tests in every test target: the root folder and the shipped
/// specs, read the way the CLI reads them.
public enum PackageFixtures {
    /// The folder holding Package.swift (found from this file's path).
    public static let root: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// Every `.json` file of a package folder (`Networks`, `Templates`) as spec sources.
    public static func sources(_ folder: String) -> [SpecSource] {
        let dir = root + "/" + folder
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.map { SpecSource(path: "\(folder)/\($0)", bytes: Array(FileManager.default.contents(atPath: dir + "/" + $0) ?? Data())) }
    }

    /// The shipped specs with the given checks.
    public static func library(checks: SpecLoader.Checks) -> SpecLibrary {
        SpecLoader.load(networks: sources("Networks"), templates: sources("Templates"), checks: checks)
    }

    /// One network spec per platform base of `Templates/`, as `leadbridge new ID --platform P
    /// --host H` writes it (`example-<platform>` at `api.<platform>-demo.example`).
    public static func platformSpecs() -> [SpecSource] {
        sources("Templates").compactMap { t -> SpecSource? in
            guard let info = PlatformSpec.info(template: t.bytes) else { return nil }
            let text = PlatformSpec.render(platform: info, id: "example-\(info.id)", name: "Example on \(info.name)",
                                           host: "api.\(info.id)-demo.example", schema: "../Templates/network.schema.json")
            return SpecSource(path: "Networks/example-\(info.id).json", bytes: Array(text.utf8))
        }
    }

    /// The shipped specs plus one generated spec per platform base.
    public static func libraryWithPlatforms(checks: SpecLoader.Checks) -> SpecLibrary {
        SpecLoader.load(networks: sources("Networks") + platformSpecs(), templates: sources("Templates"), checks: checks)
    }
}
