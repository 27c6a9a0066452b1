import FoundationEssentials
import Glibc
import LeadBridgeCore

/// `leadbridge new ID`: writes a starter spec the integrator edits — never into the shipped
/// catalog. The draft comes from `Templates/starters/<style>.json`; what varies between ways
/// of starting (a style today, a platform base later) is the `StarterRequest`.
enum NewCommand {
    static let styleOption = OptionSpec(name: "style", takesValue: true,
                                        valueName: "STYLE")

    static let new = Command(
        name: "new", arguments: "<id>",
        options: [styleOption,
                  OptionSpec(name: "name", takesValue: true, valueName: "NAME"),
                  OptionSpec(name: "out", takesValue: true, valueName: "DIR"),
                  PlatformStarter.platformOption, PlatformStarter.hostOption]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let request = try StarterRequest(ctx)
        let folders = ctx.folders()
        guard let templates = folders.shippedTemplates else {
            throw CLIError.config(.noShippedTemplates)
        }
        let lib = try ctx.library()
        if let taken = lib.spec(request.id) {
            throw CLIError.validation(.newIdTaken(id: request.id, owner: taken.id, name: taken.name))
        }
        let dir = ctx.absolute(ctx.args.value("out") ?? ".")
        if let shipped = folders.shippedNetworks, SpecFolders.samePath(dir, shipped) {
            throw CLIError.usage(.newIntoShippedCatalog(ctx.args.value("out") ?? "."), command: "new")
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CLIError.io(.cannotCreate(path: ctx.args.value("out") ?? dir, detail: "\(error)"))
        }
        let schema = URL(fileURLWithPath: templates + "/network.schema.json").standardizedFileURL.path
        let platform = try PlatformStarter(ctx, templates: templates)
        let text: String
        if let platform {
            text = PlatformSpec.render(platform: platform.info, id: request.id, name: request.name, host: platform.host, schema: schema)
        } else {
            let draftPath = templates + "/starters/" + request.style.rawValue + ".json"
            guard let draft = FileManager.default.contents(atPath: draftPath).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw CLIError.config(.cannotReadStarter(draftPath))
            }
            text = StarterSpec.render(draft, id: request.id, name: request.name, host: request.host, schema: schema)
        }
        let path = dir + "/" + request.id + ".json"
        let shown = SpecFolders.display(path, cwd: ctx.env.currentDirectory)
        // O_EXCL: an existing file (yours, edited) is never overwritten.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw CLIError.validation(.newExists(shown)) }
            throw CLIError.io(.cannotWrite(path: shown, detail: String(cString: strerror(errno))))
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw CLIError.io(.cannotWrite(path: shown, detail: "short write")) }

        let use = "--networks " + shown
        if let platform {
            ctx.say(.newWrote(path: shown, summary: ctx.t(.platformSummary(name: platform.info.name, host: platform.host, id: platform.info.id))))
            ctx.say(.newNextPlatform)
        } else {
            ctx.say(.newWrote(path: shown, summary: request.style.summary.text(ctx.lang)))
            ctx.say(.newNext)
        }
        let me = ctx.env.invokedAs
        for line in ["\(me) lint \(shown)", "\(me) \(use) test \(request.id)", "\(me) \(use) show \(request.id)",
                     "\(me) \(use) emulate --only \(request.id)"] {
            ctx.out.out("  " + line)
        }
        return .success
    }
}

/// What `new` was asked to write: the id, the name, the draft to start from and the host.
struct StarterRequest {
    var id: String
    var name: String
    var style: StarterSpec.Style
    /// The network's API host (default `api.<id>.test`).
    var host: String?

    init(_ ctx: CommandContext) throws(CLIError) {
        let id = try ctx.positional(0, .newId)
        guard StarterSpec.isValidId(id) else {
            throw CLIError.usage(.newBadId(String(id.prefix(70))), command: "new")
        }
        let styleName = ctx.args.value("style") ?? StarterSpec.Style.form.rawValue
        guard let style = StarterSpec.Style(rawValue: styleName) else {
            let names = StarterSpec.Style.allCases.map(\.rawValue)
            throw CLIError.usage(.newUnknownStyle(styleName, suggestion: Suggestions.closest(to: styleName, among: names, limit: 1).first, all: names), command: "new")
        }
        let name = ctx.args.value("name") ?? StarterSpec.defaultName(id)
        guard !name.isEmpty, name.count <= 100 else { throw CLIError.usage(.newNameLength, command: "new") }
        self.id = id
        self.name = name
        self.style = style
        self.host = nil
    }
}
