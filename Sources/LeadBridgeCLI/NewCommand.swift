import Foundation
import LeadBridgeCore

/// `leadbridge new ID`: writes a starter spec the integrator edits — never into the shipped
/// catalog. The draft comes from `Templates/starters/<style>.json`; what varies between ways
/// of starting (a style today, a platform base later) is the `StarterRequest`.
enum NewCommand {
    static let styleOption = OptionSpec(name: "style", takesValue: true,
                                        help: Localized(ru: "вид API: " + StarterSpec.Style.allCases.map(\.rawValue).joined(separator: ", ") + " (по умолчанию form)",
                                                        en: "API style: " + StarterSpec.Style.allCases.map(\.rawValue).joined(separator: ", ") + " (default form)"),
                                        valueName: "STYLE")

    static let new = Command(
        name: "new", arguments: "<id>",
        summary: Localized(ru: "создать черновик спецификации сети ID.json (с примерами) в текущей папке",
                           en: "write a starter spec ID.json (with examples) into the current folder"),
        options: [styleOption,
                  OptionSpec(name: "name", takesValue: true, help: Localized(ru: "название сети (по умолчанию из id)", en: "the network's name (default: from the id)"), valueName: "NAME"),
                  OptionSpec(name: "out", takesValue: true, help: Localized(ru: "папка для файла (по умолчанию текущая)", en: "folder for the file (default: the current one)"), valueName: "DIR"),
                  PlatformStarter.platformOption, PlatformStarter.hostOption]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let request = try StarterRequest(ctx)
        let folders = ctx.folders()
        guard let templates = folders.shippedTemplates else {
            throw CLIError.config("no shipped Templates/ found: set LEADBRIDGE_HOME to the folder that holds Networks/ and Templates/")
        }
        let lib = try ctx.library()
        if let taken = lib.spec(request.id) {
            throw CLIError.validation("\"\(request.id)\" is already the id or an alias of \(taken.id) (\(taken.name)); a spec of yours with that id would replace it — choose another id")
        }
        let dir = ctx.absolute(ctx.args.value("out") ?? ".")
        if let shipped = folders.shippedNetworks, SpecFolders.samePath(dir, shipped) {
            throw CLIError.usage("\(ctx.args.value("out") ?? ".") is the shipped catalog; write your spec elsewhere (the default is the current folder)", command: "new")
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CLIError.io("cannot create the folder \(ctx.args.value("out") ?? dir): \(error.localizedDescription)")
        }
        let schema = URL(fileURLWithPath: templates + "/network.schema.json").standardizedFileURL.path
        let platform = try PlatformStarter(ctx, templates: templates)
        let text: String
        if let platform {
            text = PlatformSpec.render(platform: platform.info, id: request.id, name: request.name, host: platform.host, schema: schema)
        } else {
            let draftPath = templates + "/starters/" + request.style.rawValue + ".json"
            guard let draft = FileManager.default.contents(atPath: draftPath).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw CLIError.config("cannot read the starter \(draftPath)")
            }
            text = StarterSpec.render(draft, id: request.id, name: request.name, host: request.host, schema: schema)
        }
        let path = dir + "/" + request.id + ".json"
        let shown = SpecFolders.display(path, cwd: ctx.env.currentDirectory)
        // O_EXCL: an existing file (yours, edited) is never overwritten.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw CLIError.validation("\(shown) already exists; edit it, or remove it to start again") }
            throw CLIError.io("cannot write \(shown): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw CLIError.io("cannot write \(shown): the disk refused part of it") }

        let l = try ctx.language
        let use = "--networks " + shown
        if let platform {
            ctx.out.out((l == .ru ? "Записан \(shown): " : "Wrote \(shown): ") + platform.summary(l))
            ctx.out.out(l == .ru ? "Подтвердите у менеджера сети, что она работает на этой платформе, и укажите это в sources, затем:"
                                 : "Confirm with the network's manager that it runs on this platform and say so in sources, then:")
        } else {
            ctx.out.out((l == .ru ? "Записан \(shown): " : "Wrote \(shown): ") + request.style.summary.text(l) + ".")
            ctx.out.out(l == .ru ? "Замените адрес, поля и примеры на взятые из документации сети, затем:" : "Replace the address, fields and examples with those of the network's documentation, then:")
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
        let id = try ctx.positional(0, "the new network's id, e.g. acme")
        guard StarterSpec.isValidId(id) else {
            throw CLIError.usage("the id must be lowercase letters, digits and '-', starting with a letter or digit (at most 64), found \"\(id.prefix(70))\"", command: "new")
        }
        let styleName = ctx.args.value("style") ?? StarterSpec.Style.form.rawValue
        guard let style = StarterSpec.Style(rawValue: styleName) else {
            let names = StarterSpec.Style.allCases.map(\.rawValue)
            throw CLIError.usage("unknown style \"\(styleName)\"" + Suggestions.didYouMean(styleName, among: names) + " (one of " + names.joined(separator: ", ") + ")", command: "new")
        }
        let name = ctx.args.value("name") ?? StarterSpec.defaultName(id)
        guard !name.isEmpty, name.count <= 100 else { throw CLIError.usage("--name must be 1 to 100 characters", command: "new") }
        self.id = id
        self.name = name
        self.style = style
        self.host = nil
    }
}
