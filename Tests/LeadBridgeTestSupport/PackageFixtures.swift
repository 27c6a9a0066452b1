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
}
