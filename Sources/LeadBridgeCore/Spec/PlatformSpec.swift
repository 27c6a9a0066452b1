/// A network spec on a white-label platform: the platform's base in `Templates/` (one with a
/// `platform` object) extended with the network's host and nothing else. `leadbridge new ID
/// --platform NAME --host HOST` writes it; a catalog network found to run on a platform
/// becomes the same few lines.
public enum PlatformSpec {
    /// The platform a template file declares, nil for templates that are not platform bases.
    public static func info(template bytes: [UInt8]) -> PlatformInfo? {
        guard let json = try? JSONParser.parse(bytes), let p = json["platform"], let id = p["id"]?.stringValue,
              let name = p["name"]?.stringValue else { return nil }
        return PlatformInfo(id: id, name: name, docs: p["docs"]?.stringValue)
    }

    /// The host as a spec keeps it: without a scheme or a trailing slash; nil when it is not a
    /// plausible host (letters, digits, dots, dashes, an optional port and path).
    public static func normalizedHost(_ text: String) -> String? {
        var h = Substring(text.trimmingWhitespace)
        for scheme in ["https://", "http://"] where h.lowercased().hasPrefix(scheme) { h = h.dropFirst(scheme.count) }
        while h.hasSuffix("/") { h = h.dropLast() }
        let hostPart = h.prefix { $0 != "/" && $0 != ":" }
        guard !hostPart.isEmpty, hostPart.contains("."), hostPart.count <= 253,
              hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }),
              h.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "{" && $0 != "}" && $0 != "?" && $0 != "#" })
        else { return nil }
        return String(h).lowercased()
    }

    /// The spec text: the base, the host, and a source saying the platform is still to be
    /// confirmed (so `networks` shows its send and poll as inferred until it is).
    public static func render(platform: PlatformInfo, id: String, name: String, host: String, schema: String) -> String {
        let note = "that \(name) runs on \(platform.name) at \(host): confirm it with the network's manager, then name the confirmation here"
        let spec: JSONValue = .obj([
            ("$schema", .string(schema)),
            ("id", .string(id)),
            ("name", .string(name)),
            ("extends", .string(platform.id)),
            ("vars", .obj([("host", .string(host))])),
            ("sources", .obj([("platform", .obj([
                ("where", .string("the network's manager or cabinet")),
                ("supports", .array([.string("platform"), .string("send.host"), .string("poll.host")])),
                ("confidence", .string("inferred")),
                ("note", .string(note)),
            ]))])),
        ])
        return JSONWriter.pretty(spec) + "\n"
    }
}
