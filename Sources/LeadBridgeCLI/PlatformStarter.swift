import FoundationEssentials
import Glibc
import LeadBridgeCore

/// `leadbridge new ID --platform NAME --host HOST`: which platform base of `Templates/` the new
/// spec extends and at which host. Kept apart from the starter drafts of `new`.
struct PlatformStarter {
    static let platformOption = OptionSpec(name: "platform", takesValue: true,
                                           valueName: "NAME")
    static let hostOption = OptionSpec(name: "host", takesValue: true,
                                       valueName: "HOST")

    var info: PlatformInfo
    var host: String

    /// nil when `--platform` is not given; errors name the platforms there are.
    init?(_ ctx: CommandContext, templates: String) throws(CLIError) {
        let name = ctx.args.value("platform")
        let hostText = ctx.args.value("host")
        guard let name else {
            if hostText != nil, ctx.args.value("style") == nil { throw CLIError.usage(.hostWithoutPlatform, command: "new") }
            return nil
        }
        if ctx.args.value("style") != nil { throw CLIError.usage(.styleAndPlatform, command: "new") }
        let known = Self.platforms(templates)
        guard let info = known.first(where: { $0.id == name.lowercased() }) else {
            let ids = known.map(\.id)
            throw CLIError.usage(.unknownPlatform(name, suggestion: Suggestions.closest(to: name.lowercased(), among: ids, limit: 1).first, all: ids), command: "new")
        }
        guard let hostText else { throw CLIError.usage(.platformNeedsHost(info.id), command: "new") }
        guard let host = PlatformSpec.normalizedHost(hostText) else {
            throw CLIError.usage(.hostInvalid(String(hostText.prefix(80))), command: "new")
        }
        self.info = info
        self.host = host
    }

    /// Platform bases among the shipped templates, by id.
    static func platforms(_ templates: String) -> [PlatformInfo] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { n in FileManager.default.contents(atPath: templates + "/" + n).flatMap { PlatformSpec.info(template: Array($0)) } }
    }

}
