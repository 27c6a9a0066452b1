import Foundation
import LeadBridgeCore

/// `leadbridge new ID --platform NAME --host HOST`: which platform base of `Templates/` the new
/// spec extends and at which host. Kept apart from the starter drafts of `new`.
struct PlatformStarter {
    static let platformOption = OptionSpec(name: "platform", takesValue: true,
                                           help: Localized(ru: "платформа сети (altercpa, trafficmanager, everflow, hasoffers): спецификация на её основе, нужен --host",
                                                           en: "the network's platform (altercpa, trafficmanager, everflow, hasoffers): a spec on its base, needs --host"),
                                           valueName: "NAME")
    static let hostOption = OptionSpec(name: "host", takesValue: true,
                                       help: Localized(ru: "API-адрес сети на платформе, например api.cpa.moe или cashfactories.com/api",
                                                       en: "the network's API host on the platform, e.g. api.cpa.moe or cashfactories.com/api"),
                                       valueName: "HOST")

    var info: PlatformInfo
    var host: String

    /// nil when `--platform` is not given; errors name the platforms there are.
    init?(_ ctx: CommandContext, templates: String) throws(CLIError) {
        let name = ctx.args.value("platform")
        let hostText = ctx.args.value("host")
        guard let name else {
            if hostText != nil, ctx.args.value("style") == nil { throw CLIError.usage("--host goes with --platform (the starter styles put their own host)", command: "new") }
            return nil
        }
        if ctx.args.value("style") != nil { throw CLIError.usage("--style and --platform do not mix: a platform spec takes everything from its base", command: "new") }
        let known = Self.platforms(templates)
        guard let info = known.first(where: { $0.id == name.lowercased() }) else {
            let ids = known.map(\.id)
            throw CLIError.usage("unknown platform \"\(name)\"" + Suggestions.didYouMean(name.lowercased(), among: ids) + " (one of " + ids.joined(separator: ", ") + ")",
                                 command: "new")
        }
        guard let hostText else { throw CLIError.usage("--platform \(info.id) needs --host, the network's API host (e.g. api.example.com)", command: "new") }
        guard let host = PlatformSpec.normalizedHost(hostText) else {
            throw CLIError.usage("--host must be a host name such as api.example.com (optionally with a path), found \"\(hostText.prefix(80))\"", command: "new")
        }
        self.info = info
        self.host = host
    }

    /// Platform bases among the shipped templates, by id.
    static func platforms(_ templates: String) -> [PlatformInfo] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { n in FileManager.default.contents(atPath: templates + "/" + n).flatMap { PlatformSpec.info(template: Array($0)) } }
    }

    func summary(_ l: Language) -> String {
        l == .ru ? "сеть на платформе \(info.name) (\(host)): отправка и статусы — из её базы Templates/\(info.id).json."
            : "a network on \(info.name) (\(host)): sending and statuses come from its base Templates/\(info.id).json."
    }
}
