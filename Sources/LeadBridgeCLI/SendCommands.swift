import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// `send` (one lead, a batch, `--queue` for sync, or a dry run) and `test` (the specs' own examples).
enum SendCommands {
    static let connectOption = OptionSpec(name: "connect-to", takesValue: true, repeatable: true,
                                          valueName: "HOST=ADDR:PORT")

    static let send = Command(
        name: "send", arguments: "<network>",
        options: [OptionSpec(name: "lead", takesValue: true, valueName: "FILE", required: true),
                  OptionSpec(name: "account", takesValue: true, valueName: "NAME", required: true),
                  OptionSpec(name: "queue", takesValue: false),
                  OptionSpec(name: "dry-run", takesValue: false),
                  OptionSpec(name: "resend", takesValue: false),
                  OptionSpec(name: "source", takesValue: true, valueName: "NAME"),
                  OptionSpec(name: "click-id", takesValue: true, valueName: "ID"),
                  LeadBridgeCommand.json, connectOption]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let lib = try ctx.library()
        let spec = try ctx.network(try ctx.positional(0, .networkId), in: lib)
        guard let leadPath = ctx.args.value("lead") else { throw CLIError.usage(.missingOption("--lead FILE"), command: "send") }
        guard let accountName = ctx.args.value("account") else { throw CLIError.usage(.missingOption("--account NAME"), command: "send") }
        var batch = try ctx.readLeads(leadPath)
        if ctx.args.has("queue") && ctx.args.has("dry-run") { throw CLIError.usage(.queueAndDryRun, command: "send") }
        // The order's traffic source (and its click id, for one lead) given on the command line.
        let source = ctx.args.value("source"), clickId = ctx.args.value("click-id")
        if clickId != nil {
            guard source != nil else { throw CLIError.usage(.clickIdNeedsSource, command: "send") }
            guard batch.shape == .single else { throw CLIError.usage(.clickIdOneLead, command: "send") }
        }
        for i in batch.items.indices {
            guard case .success(var lead) = batch.items[i].result else { continue }
            if let source { lead.source = source }
            if let clickId { lead.fields["click_id"] = clickId }
            batch.items[i].result = .success(lead)
        }
        // One lead keeps the single send's errors and exit codes: a bad file is exit 1.
        var single: Lead?
        if batch.shape == .single, let only = batch.items.first {
            switch only.result {
            case .success(let lead): single = lead
            case .failure(let p): throw CLIError.validation(.raw(ctx.batchProblem(p, place: only.place, path: leadPath)))
            }
        }
        let job = try SendJob(ctx: ctx, spec: spec, library: lib, accountName: accountName,
                              needsConfig: accountName != "example" || batch.leads.contains { $0.lead.source != nil })
        // A lead with a traffic source needs that source configured for its postbacks; in a
        // batch a lead the source cannot take is reported like a bad lead.
        for i in batch.items.indices {
            guard case .success(let lead) = batch.items[i].result, let name = lead.source else { continue }
            do throws(CLIError) { try checkSource(name, lead: lead, config: job.config, library: lib, ctx.lang) } catch {
                if single != nil || error.exitCode != .validation { throw error }
                batch.items[i].result = .failure(.refused(Localized(ru: error.message(.ru, hint: false), en: error.message(.en, hint: false))))
            }
        }
        if ctx.args.has("dry-run") {
            // Every lead's requests (a batch: a JSON array, or one section per lead); bad leads
            // are reported and the others still shown.
            let leads = batch.leads
            var shown: [JSONValue] = []
            for (i, item) in leads.enumerated() {
                let requests = try job.dryRequests(item.lead)
                if ctx.args.has("json") { shown.append(job.dryRunJSON(item.lead, requests)); continue }
                if single == nil { job.print((i == 0 ? "" : "\n") + ctx.t(.batchLeadHeading(item.lead.id))) }
                job.printDryRun(requests)
            }
            if ctx.args.has("json") { job.print(JSONWriter.pretty(single == nil ? .array(shown) : shown.first ?? .null)) }
            for p in batch.problems { ctx.out.err(ctx.batchProblem(p.problem, place: p.place, path: leadPath)) }
            return batch.problems.isEmpty ? .success : .partialFailure
        }
        if let single, !ctx.args.has("queue") { return try await job.sendOne(single) }
        return try await job.runBatch(batch, path: leadPath, queueOnly: ctx.args.has("queue"))
    }

    /// A lead that names a traffic source: the source is configured, its settings are all
    /// there for the postbacks this lead gets, and the lead carries what they send back.
    static func checkSource(_ name: String, lead: Lead, config: LeadBridgeConfig?, library: SpecLibrary, _ lang: Language) throws(CLIError) {
        if let unavailable = config?.unavailableSources[name] { throw CLIError.located(unavailable.problems, exit: .configuration) }
        guard let source = config?.sources[name] else {
            let names = config?.sources.keys.sorted() ?? []
            throw CLIError.config(.unknownSource(name, suggestion: Suggestions.closest(to: name, among: names, limit: 1).first, hasSources: !names.isEmpty))
        }
        guard let spec = library.spec(source.network) else { throw CLIError.config(.sourceWithoutSpec(source: name, network: source.network)) }
        let problems = OutgoingRequest.leadProblems(lead, source: spec)
        if !problems.isEmpty { throw CLIError.validation(.raw(problems.map { Say.leadProblem(source: Say.leadLabel(lead.id).text(lang), $0).text(lang) }.joined(separator: "\n"))) }
        for out in spec.outgoing where OutgoingRequest.applies(out, to: lead) {
            let missing = OutgoingRequest.missingSettings(out, source: source.values)
            if !missing.isEmpty {
                throw CLIError.config(.sourceLacksSettings(source: name, missing: missing, postbacks: out.label ?? Localized(ru: out.id)))
            }
        }
    }

    static let test = Command(
        name: "test", arguments: "[<network>…]",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        let lib = try ctx.library()
        var specs = lib.specs
        if !ctx.args.positionals.isEmpty {
            var chosen: [NetworkSpec] = []
            for name in ctx.args.positionals { chosen.append(try ctx.network(name, in: lib)) }
            specs = chosen
        }
        var passed = 0, failed = 0
        var rows: [JSONValue] = []
        for spec in specs {
            for r in ExampleRunner.runAll(spec, defaults: lib.defaults) {
                if r.passed { passed += 1 } else { failed += 1 }
                rows.append(.obj([("network", .string(r.network)), ("example", .string(r.name)), ("passed", .bool(r.passed)),
                                  ("differences", .array(r.differences.map { .string($0.english) }))]))
                if !ctx.args.has("json") {
                    ctx.out.out(ctx.t(.exampleResult(passed: r.passed)) + " \(r.network): \(r.name)")
                    for d in r.differences { ctx.out.out("      " + ctx.t(.exampleDifference(d)).replacingAll("\n", with: "\n      ")) }
                }
            }
        }
        if ctx.args.has("json") { ctx.printJSON(.array(rows)) } else { ctx.say(.passedFailed(passed: passed, failed: failed)) }
        return failed == 0 ? .success : .validation
    }
}

/// Builds every step of a send for display: later steps get `<step.var>` stand-ins for the
/// values earlier responses would give; secrets are masked, signatures keep their value.
enum DryRun {
    static func requests(spec: NetworkSpec, lead: Lead, account: AccountValues, now: Int64) throws(SendPreparationError) -> [BuiltRequest] {
        var plan = try SendPlan(spec: spec, lead: lead, account: account, now: now)
        var shown: [BuiltRequest] = []
        guard let send = spec.send else { return [] }
        for step in send.steps {
            guard try plan.nextRequest() != nil else { break }
            shown.append(try plan.redactedRequest())
            let body = step.extract.map { "\"\($0.name)\": \"<\(step.id).\($0.name)>\"" }.joined(separator: ",")
            var headers: [HTTPHeader] = []
            for (name, rule) in step.extract { if case .header(let h) = rule.source { headers.append(HTTPHeader(h, "<\(step.id).\(name)>")) } }
            let text: String
            if step.extract.count == 1, case .body = step.extract[0].rule.source { text = "<\(step.id).\(step.extract[0].name)>" } else { text = "{\(body)}" }
            plan.handle(HTTPResponseValue(status: 200, headers: headers, body: Array(text.utf8)))
        }
        if try plan.nextRequest() != nil { shown.append(try plan.redactedRequest()) }
        return shown
    }

    static func text(_ b: BuiltRequest, _ l: Language) -> String {
        var lines = ["\(b.request.method) \(b.request.url)"]
        lines += b.request.headers.map { "\($0.name): \($0.value)" }
        if !b.request.body.isEmpty { lines += ["", b.request.bodyText] }
        if let input = b.signatureInput { lines += ["", Say.signatureInput.text(l) + input, Say.signature.text(l) + (b.signature ?? "")] }
        return lines.joined(separator: "\n")
    }

    static func json(_ b: BuiltRequest) -> JSONValue {
        .obj([("method", .string(b.request.method)), ("url", .string(b.request.url)),
              ("headers", .object(JSONObject(b.request.headers.map { JSONMember(key: $0.name, value: .string($0.value)) }))),
              ("body", .string(b.request.bodyText)), ("signature_input", .str(b.signatureInput)), ("signature", .str(b.signature))])
    }
}

/// What happens next to a lead whose send did not end it: retried by the next `sync` (from a
/// due time), or parked for an operator.
enum SendFollowUp: Sendable, Hashable {
    case none
    case retriedBySync(due: String?)
    case parked(attempts: Int)
    /// The network refused the account (SalesMan's wrong key): the lead waits, uncounted.
    case accountToFix(account: String)

    init(_ record: LeadRecord, outcome: OutcomeKind) {
        switch record.sendState {
        case .queued where outcome == .accountError: self = .accountToFix(account: record.account)
        case .queued where outcome == .failed: self = .retriedBySync(due: record.facts.dueAt.map { ISODate.format($0) })
        case .parked: self = .parked(attempts: record.attempts)
        default: self = .none
        }
    }
}
