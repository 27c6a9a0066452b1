import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// `leadbridge import NETWORK FILE`: applies the lead report a manager downloaded from the
/// network's cabinet (CSV in any encoding and delimiter) through the lead lifecycle, and
/// prints what changed and what could not be matched; `--dry-run` writes nothing.
enum ImportCommand {
    static let mapOption = OptionSpec(name: "map", takesValue: true, repeatable: true, valueName: "ROLE=COLUMN")

    static let command = Command(
        name: "import", arguments: "<network> <file>",
        options: [mapOption, OptionSpec(name: "dry-run", takesValue: false), LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 2)
        let (lib, config) = try ctx.checkedConfiguration()
        let spec = try ctx.network(try ctx.positional(0, .networkId), in: lib)
        let file = try ctx.positional(1, .reportFile)
        let map: [ReportRole: String]
        do throws(ReportError) { map = try ReportColumns.parseMap(ctx.args.values["map"] ?? []) } catch { throw CLIError.usage(.reportError(error), command: "import") }
        let path = ctx.absolute(file)
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.io(.cannotRead(file)) }
        let bytes = Array(data)
        let plan: ReportPlan
        let encoding: ReportEncoding
        do throws(ReportError) { encoding = try ReportFile.encoding(of: bytes) } catch {
            throw CLIError.validation(.reportProblem(file: file, error))
        }
        guard let decoded = decode(bytes, encoding) else { throw CLIError.validation(.reportUnreadable(file: file, encoding: encoding.rawValue)) }
        do throws(ReportError) { plan = try ReportImport.plan(text: decoded, encoding: encoding, spec: spec, defaults: lib.defaults, map: map) } catch {
            throw CLIError.validation(.reportProblem(file: file, error))
        }
        let store = try ctx.openStore(config)
        let dryRun = ctx.args.has("dry-run")
        let result: ReportImporter.Result
        do {
            result = try ReportImporter(ledger: Ledger(store: store, library: lib, config: config, clock: ctx.env.clock), store: store)
                .run(plan, network: spec.id, dryRun: dryRun, now: ctx.now())
        } catch {
            throw CLIError.config(.store(StoreDetail(error)))
        }
        let l = try ctx.language
        if ctx.args.has("json") { ctx.printJSON(json(plan, result)) } else { ctx.out.out(text(plan, result, file: file, network: spec.id, l)) }
        return .success
    }

    /// The system decodes; Core said which encoding. Windows-1251 goes through glibc's iconv:
    /// the binary links FoundationEssentials only, which knows the Unicode encodings and
    /// nothing else (`String(data:encoding: .windowsCP1251)` worked in the tests' process,
    /// which has full Foundation, and gave nil in the shipped binary).
    static func decode(_ bytes: [UInt8], _ e: ReportEncoding) -> String? {
        let body = Data(bytes.dropFirst(e.markLength))
        switch e {
        case .utf8, .utf8BOM: return String(data: body, encoding: .utf8)
        case .utf16LE: return String(data: body, encoding: .utf16LittleEndian)
        case .utf16BE: return String(data: body, encoding: .utf16BigEndian)
        case .windows1251: return iconvToUTF8(Array(bytes.dropFirst(e.markLength)), from: "WINDOWS-1251")
        }
    }

    /// `bytes` in `encoding`, converted to a String by iconv; nil when iconv lacks the encoding
    /// or a byte is not valid in it.
    static func iconvToUTF8(_ bytes: [UInt8], from encoding: String) -> String? {
        let cd = iconv_open("UTF-8", encoding)
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        var input = bytes
        // A single-byte encoding takes at most 3 UTF-8 bytes per byte.
        var output = [UInt8](repeating: 0, count: 3 * bytes.count + 1)
        let written: Int? = input.withUnsafeMutableBytes { inRaw in
            output.withUnsafeMutableBytes { outRaw -> Int? in
                var inPtr = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outPtr = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var inLeft = inRaw.count, outLeft = outRaw.count
                guard iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) != -1, inLeft == 0 else { return nil }
                return outRaw.count - outLeft
            }
        }
        guard let written else { return nil }
        return String(decoding: output[..<written], as: UTF8.self)
    }
}

extension ImportCommand {
    static let listLimit = 20

    static func text(_ plan: ReportPlan, _ r: ReportImporter.Result, file: String, network: String, _ l: Language) -> String {
        func t(_ say: Say) -> String { say.text(l) }
        var lines: [String] = []
        lines.append(t(.importHeading(file: file, encoding: plan.encoding.rawValue, delimiter: plan.delimiter, headerLine: plan.headerLine)))
        let cols = ReportRole.allCases.compactMap { role in plan.columns.name(role).map { "\(role.rawValue) ← \"\($0)\"" } }
        lines.append(t(.importColumns(cols.joined(separator: ", "))))
        lines.append(t(.importCounts(rows: plan.entries.count + plan.skipped.count, changed: r.changed, unchanged: r.unchanged, refused: r.refused,
                                     unmatched: r.unmatched, unknown: r.unknown, skipped: plan.skipped.count)))
        func section(_ title: Say, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("")
            lines.append(t(title))
            lines += items.prefix(listLimit).map { "  " + $0 }
            if items.count > listLimit { lines.append("  " + t(.importMore(items.count - listLimit))) }
        }
        func id(_ row: ReportImporter.Row) -> String {
            row.orderId ?? row.entry.orderId ?? t(.importNetworkLead(row.entry.externalId ?? "?"))
        }
        var changed: [String] = [], refused: [String] = [], unmatched: [String] = []
        for row in r.rows {
            let e = row.entry
            switch row.outcome {
            case .changed(let from, let to):
                let extra = [e.raw, e.payout.map { p in e.currency.map { "\(p) \($0)" } ?? p }].compactMap { $0 }.joined(separator: ", ")
                changed.append("\(id(row))  \(from?.rawValue ?? "—") → \(to.rawValue)  (\(extra))")
            case .refused(let why):
                refused.append("\(id(row))  \(e.raw): \(t(.lifecycleReason(why))) (" + t(.importLine(e.line)) + ")")
            case .unmatched:
                let keys = [e.orderId.map { t(.importOurId($0)) }, e.externalId.map { t(.importNetworkId($0)) }].compactMap { $0 }
                unmatched.append(t(.importLine(e.line)) + ": " + keys.joined(separator: ", "))
            case .unchanged, .unknownWord:
                continue
            }
        }
        section(.importChangedHeading(dryRun: r.dryRun), changed)
        section(.importRefusedHeading, refused)
        section(.importUnmatchedHeading(network: network), unmatched)
        section(.importUnknownHeading, plan.unknownWords.map { "\"\($0.word)\": " + t(.importRows($0.rows)) })
        section(.importSkippedHeading, plan.skipped.map { t(.importLine($0.line)) + ": " + $0.reason.text(l) })
        if r.dryRun { lines.append(""); lines.append(t(.importDryRun)) }
        return lines.joined(separator: "\n")
    }

    static func json(_ plan: ReportPlan, _ r: ReportImporter.Result) -> JSONValue {
        func outcome(_ o: ReportImporter.Outcome) -> [(String, JSONValue)] {
            switch o {
            case .changed(let from, let to): return [("result", .string("changed")), ("from", .str(from?.rawValue)), ("to", .string(to.rawValue))]
            case .unchanged(let b): return [("result", .string("unchanged")), ("status", .string(b.rawValue))]
            case .refused(let why):
                return [("result", .string("refused")), ("reason", .string(Say.lifecycleReason(why).text(.en))), ("reason_code", .string(why.code))]
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
