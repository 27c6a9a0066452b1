import Foundation

/// Golden files (Tests/Golden) for everything printed: the comparison every test target
/// shares. `LEADBRIDGE_RECORD=1` rewrites them instead (CI never sets it).
public enum GoldenFiles {
    public static var recording: Bool { ProcessInfo.processInfo.environment["LEADBRIDGE_RECORD"] == "1" }

    /// nil when `actual` is the golden file's text (or was just recorded); else what differs.
    public static func difference(_ actual: String, _ name: String) -> String? {
        let path = PackageFixtures.root + "/Tests/Golden/" + name
        if recording {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return "missing golden file Tests/Golden/\(name) (run with LEADBRIDGE_RECORD=1 once)"
        }
        let expected = String(decoding: data, as: UTF8.self)
        guard expected != actual else { return nil }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false), a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
        return """
            Tests/Golden/\(name) differs at line \(line + 1) (LEADBRIDGE_RECORD=1 rewrites it):
              expected: \(line < e.count ? String(e[line]) : "<end>")
              actual:   \(line < a.count ? String(a[line]) : "<end>")
            """
    }
}
