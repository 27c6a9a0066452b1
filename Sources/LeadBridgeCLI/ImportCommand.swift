import Foundation
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// `leadbridge import NETWORK FILE`: applies the lead report a manager downloaded from the
/// network's cabinet (CSV in any encoding and delimiter) through the lead lifecycle, and
/// prints what changed and what could not be matched; `--dry-run` writes nothing.
enum ImportCommand {
    static let mapOption = OptionSpec(name: "map", takesValue: true, repeatable: true,
                                      help: Localized(ru: "какой столбец что содержит: status=Статус,order=sub1 (роли: order, external, status, payout, currency, comment)",
                                                      en: "which column holds what: status=Статус,order=sub1 (roles: order, external, status, payout, currency, comment)"),
                                      valueName: "ROLE=COLUMN")

    static let command = Command(
        name: "import", arguments: "<network> <file>",
        summary: Localized(ru: "применить статусы из скачанного в кабинете сети отчёта по лидам (CSV)",
                           en: "apply statuses from the lead report downloaded from the network's cabinet (CSV)"),
        options: [mapOption,
                  OptionSpec(name: "dry-run", takesValue: false, help: Localized(ru: "показать, что изменится, ничего не записывая", en: "show what would change, write nothing")),
                  LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 2)
        let (lib, config) = try ctx.checkedConfiguration()
        let spec = try ctx.network(try ctx.positional(0, "network id (see 'leadbridge networks')"), in: lib)
        let file = try ctx.positional(1, "the report file (CSV) downloaded from the network's cabinet")
        let map: [ReportRole: String]
        do throws(ReportError) { map = try ReportColumns.parseMap(ctx.args.values["map"] ?? []) } catch { throw CLIError.usage(error.message, command: "import") }
        let path = ctx.absolute(file)
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.io("cannot read \(file)") }
        let bytes = Array(data)
        let plan: ReportPlan
        do throws(ReportError) {
            let encoding = try ReportFile.encoding(of: bytes)
            guard let text = decode(bytes, encoding) else { throw ReportError("the file is not readable as \(encoding.rawValue)") }
            plan = try ReportImport.plan(text: text, encoding: encoding, spec: spec, defaults: lib.defaults, map: map)
        } catch {
            throw CLIError.validation("\(file): \(error.message)")
        }
        let store = try ctx.openStore(config)
        let dryRun = ctx.args.has("dry-run")
        let result: ReportImporter.Result
        do {
            result = try ReportImporter(ledger: Ledger(store: store, library: lib, config: config, clock: ctx.env.clock), store: store)
                .run(plan, network: spec.id, dryRun: dryRun, now: ctx.now())
        } catch {
            throw CLIError.config("store: \(error)")
        }
        let l = try ctx.language
        if ctx.args.has("json") { ctx.printJSON(json(plan, result)) } else { ctx.out.out(text(plan, result, file: file, network: spec.id, l)) }
        return .success
    }

    /// Foundation decodes; Core said which encoding.
    static func decode(_ bytes: [UInt8], _ e: ReportEncoding) -> String? {
        let body = Data(bytes.dropFirst(e.markLength))
        switch e {
        case .utf8, .utf8BOM: return String(data: body, encoding: .utf8)
        case .utf16LE: return String(data: body, encoding: .utf16LittleEndian)
        case .utf16BE: return String(data: body, encoding: .utf16BigEndian)
        case .windows1251: return String(data: body, encoding: .windowsCP1251)
        }
    }
}

extension ImportCommand {
    static let listLimit = 20

    static func text(_ plan: ReportPlan, _ r: ReportImporter.Result, file: String, network: String, _ l: Language) -> String {
        let ru = l == .ru
        var lines: [String] = []
        let delimiter = plan.delimiter == "tab" ? (ru ? "табуляция" : "tab") : "'\(plan.delimiter)'"
        lines.append((ru ? "Отчёт: " : "Report: ") + "\(file) (\(plan.encoding.rawValue), \(delimiter), "
                     + (ru ? "заголовок в строке \(plan.headerLine))" : "header on line \(plan.headerLine))"))
        let cols = ReportRole.allCases.compactMap { role in plan.columns.name(role).map { "\(role.rawValue) ← \"\($0)\"" } }
        lines.append((ru ? "Столбцы: " : "Columns: ") + cols.joined(separator: ", "))
        let counts = ru
            ? "строк: \(plan.entries.count + plan.skipped.count); изменено \(r.changed), без изменений \(r.unchanged), отказано \(r.refused), не найдено \(r.unmatched), неизвестных статусов \(r.unknown), пропущено \(plan.skipped.count)"
            : "rows: \(plan.entries.count + plan.skipped.count); changed \(r.changed), unchanged \(r.unchanged), refused \(r.refused), not matched \(r.unmatched), unknown status \(r.unknown), skipped \(plan.skipped.count)"
        lines.append(counts.prefix(1).uppercased() + counts.dropFirst())
        func section(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("")
            lines.append(title)
            lines += items.prefix(listLimit).map { "  " + $0 }
            if items.count > listLimit { lines.append("  " + (ru ? "… и ещё \(items.count - listLimit)" : "… and \(items.count - listLimit) more")) }
        }
        func id(_ row: ReportImporter.Row) -> String {
            row.orderId ?? row.entry.orderId ?? (ru ? "лид сети " : "network lead ") + (row.entry.externalId ?? "?")
        }
        var changed: [String] = [], refused: [String] = [], unmatched: [String] = []
        for row in r.rows {
            let e = row.entry
            switch row.outcome {
            case .changed(let from, let to):
                let extra = [e.raw, e.payout.map { p in e.currency.map { "\(p) \($0)" } ?? p }].compactMap { $0 }.joined(separator: ", ")
                changed.append("\(id(row))  \(from?.rawValue ?? "—") → \(to.rawValue)  (\(extra))")
            case .refused(let why):
                refused.append("\(id(row))  \(e.raw): \(why) (" + (ru ? "строка " : "line ") + "\(e.line))")
            case .unmatched:
                let keys = [e.orderId.map { (ru ? "наш id " : "our id ") + $0 }, e.externalId.map { (ru ? "id сети " : "network id ") + $0 }].compactMap { $0 }
                unmatched.append((ru ? "строка " : "line ") + "\(e.line): " + keys.joined(separator: ", "))
            case .unchanged, .unknownWord:
                continue
            }
        }
        section(r.dryRun ? (ru ? "Изменится:" : "Would change:") : (ru ? "Изменено:" : "Changed:"), changed)
        section(ru ? "Отказано правилами статусов (запись в журнале лида):" : "Refused by the status rules (an entry in the lead's history):", refused)
        section(ru ? "Не найдено у \(network) (нет лида с таким id):" : "Not matched at \(network) (no lead with that id):", unmatched)
        section(ru ? "Неизвестные слова статуса (добавьте их в report.statuses или statuses спецификации):"
                   : "Unknown status words (add them to the spec's report.statuses or statuses):",
                plan.unknownWords.map { "\"\($0.word)\": " + (ru ? "строк: \($0.rows)" : ($0.rows == 1 ? "1 row" : "\($0.rows) rows")) })
        section(ru ? "Пропущено:" : "Skipped:", plan.skipped.map { (ru ? "строка " : "line ") + "\($0.line): " + $0.reason.text(l) })
        if r.dryRun { lines.append(""); lines.append(ru ? "Пробный запуск (--dry-run): ничего не записано." : "Dry run (--dry-run): nothing was written.") }
        return lines.joined(separator: "\n")
    }

    static func json(_ plan: ReportPlan, _ r: ReportImporter.Result) -> JSONValue {
        func outcome(_ o: ReportImporter.Outcome) -> [(String, JSONValue)] {
            switch o {
            case .changed(let from, let to): return [("result", .string("changed")), ("from", .str(from?.rawValue)), ("to", .string(to.rawValue))]
            case .unchanged(let b): return [("result", .string("unchanged")), ("status", .string(b.rawValue))]
            case .refused(let why): return [("result", .string("refused")), ("reason", .string(why))]
            case .unmatched: return [("result", .string("unmatched"))]
            case .unknownWord: return [("result", .string("unknown-status"))]
            }
        }
        return .obj([
            ("encoding", .string(plan.encoding.rawValue)), ("delimiter", .string(plan.delimiter)), ("header_line", .int(plan.headerLine)),
            ("columns", .object(JSONObject(pairs: ReportRole.allCases.compactMap { role in plan.columns.name(role).map { (role.rawValue, JSONValue.string($0)) } }))),
            ("dry_run", .bool(r.dryRun)),
            ("counts", .obj([("changed", .int(r.changed)), ("unchanged", .int(r.unchanged)), ("refused", .int(r.refused)), ("unmatched", .int(r.unmatched)),
                             ("unknown_status", .int(r.unknown)), ("skipped", .int(plan.skipped.count))])),
            ("rows", .array(r.rows.map { row in
                .obj([("line", .int(row.entry.line)), ("order_id", .str(row.orderId ?? row.entry.orderId)), ("external_id", .str(row.entry.externalId)),
                      ("raw_status", .string(row.entry.raw))] + outcome(row.outcome))
            })),
            ("skipped", .array(plan.skipped.map { .obj([("line", .int($0.line)), ("reason", .string($0.reason.text(.en)))]) })),
        ])
    }
}
