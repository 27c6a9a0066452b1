import Foundation
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// `send` (one lead, or a dry run) and `test` (the specs' own examples).
enum SendCommands {
    static let connectOption = OptionSpec(name: "connect-to", takesValue: true, repeatable: true,
                                          valueName: "HOST=ADDR:PORT")

    static let send = Command(
        name: "send", arguments: "<network>",
        options: [OptionSpec(name: "lead", takesValue: true, valueName: "FILE", required: true),
                  OptionSpec(name: "account", takesValue: true, valueName: "NAME", required: true),
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
        var lead = try ctx.readLead(leadPath)
        if let s = ctx.args.value("source") { lead.source = s }
        if let c = ctx.args.value("click-id") {
            guard lead.source != nil else { throw CLIError.usage(.clickIdNeedsSource, command: "send") }
            lead.fields["click_id"] = c
        }
        let config = try ctx.config(required: accountName != "example" || lead.source != nil, specs: lib)
        if let name = lead.source { try checkSource(name, lead: lead, config: config, library: lib, ctx.lang) }
        let account: AccountValues
        var secrets: [String] = config?.secretValues ?? []
        if let unavailable = config?.unavailableAccounts[accountName] {
            throw CLIError.located(unavailable.problems.map(\.description), exit: .configuration)
        }
        if let a = config?.accounts[accountName] {
            guard a.network == spec.id || spec.aliases.contains(a.network) else {
                throw CLIError.config(.accountOfOtherNetwork(account: accountName, network: a.network, wanted: spec.id))
            }
            account = a.values
        } else if accountName == "example", let ex = spec.exampleAccount {
            account = ex
        } else {
            let names = config?.accounts.values.filter { $0.network == spec.id }.map(\.name).sorted() ?? []
            throw CLIError.config(.unknownAccount(accountName, suggestion: Suggestions.closest(to: accountName, among: names, limit: 1).first,
                                                  network: spec.id, hasAccounts: !names.isEmpty))
        }
        secrets += spec.secretCredentialKeys.compactMap { account.credentials[$0] }
        let redactor = Redactor(secrets: secrets)
        let print: (String) -> Void = { ctx.out.out(redactor.redact($0)) }
        guard spec.send != nil else { throw CLIError.validation(.noSendAPI(spec.id)) }
        let now = ctx.now()

        if ctx.args.has("dry-run") {
            let shown: [BuiltRequest]
            do throws(SendPreparationError) { shown = try DryRun.requests(spec: spec, lead: lead, account: account, now: now) } catch {
                if case .missingCredential = error { throw CLIError.config(.raw(error.description)) }
                throw CLIError.validation(.cannotSendLead(network: spec.id, lead: lead.id, detail: redactor.redact("\(error)")))
            }
            if ctx.args.has("json") {
                print(JSONWriter.pretty(.obj([("network", .string(spec.id)), ("lead", .string(lead.id)), ("account", .string(account.name)),
                                             ("dry_run", .bool(true)), ("requests", .array(shown.map(DryRun.json)))])))
            } else {
                for (i, b) in shown.enumerated() {
                    if shown.count > 1 { print((i == 0 ? "" : "\n") + ctx.t(.dryRunStep(i + 1, of: shown.count))) }
                    print(DryRun.text(b, ctx.lang))
                }
            }
            return .success
        }

        guard let config, config.accounts[accountName] != nil else {
            throw CLIError.usage(.exampleAccountOnlyForDryRun, command: "send")
        }
        // A real send goes through the ledger: recorded first, refused if already sent.
        let store = try ctx.openStore(config)
        let ledger = Ledger(store: store, library: lib, config: config, clock: ctx.env.clock)
        let owner = Worker.identity
        var record: LeadRecord
        do {
            switch try ledger.enqueue(lead, network: spec.id, account: accountName, source: lead.source) {
            case .exists(let earlier):
                guard ctx.args.has("resend") else {
                    throw CLIError.validation(.alreadySent(lead: lead.id, network: spec.id, state: ctx.t(.state(earlier.sendState.rawValue)),
                                                           status: earlier.status.map { ctx.t(.bucket($0.bucket.rawValue)) }, externalId: earlier.externalId,
                                                           at: ISODate.format(earlier.updatedAt)))
                }
                guard let again = try ledger.resend(rowId: earlier.rowId, lead: lead, account: accountName), again.decision.refusal == nil else {
                    throw CLIError.validation(.beingSent(lead.id))
                }
                record = again.record
            case .queued(let r): record = r
            }
            guard let claimed = try ledger.claim(rowId: record.rowId, owner: owner, lease: 3600) else {
                throw CLIError.validation(.beingSent(lead.id))
            }
            record = claimed
        } catch let e as CLIError { throw e } catch { throw CLIError.config(.store("\(error)")) }
        let transport = CurlTransport(connectTo: try ctx.connectTo(), environment: ctx.env.variables)
        let sender = LeadSender(transport: transport)
        let sent: SentLead
        do { sent = try await ledger.send(record, spec: spec, account: account, sender: sender, owner: owner) } catch {
            throw CLIError.config(.store("\(error)"))
        }
        if let error = sent.preparation {
            if case .missingCredential = error { throw CLIError.config(.raw(error.description)) }
            throw CLIError.validation(.cannotSendLead(network: spec.id, lead: lead.id, detail: redactor.redact("\(error)")))
        }
        guard let attempt = sent.attempt, let update = sent.update else {
            throw CLIError.validation(.beingSent(lead.id))
        }
        let o = attempt.outcome
        if ctx.args.has("json") {
            var json = o.json
            if case .object(var obj) = json {
                obj["network"] = .string(spec.id)
                obj["lead"] = .string(lead.id)
                obj["attempts"] = .int(update.record.attempts)
                obj["send_state"] = .string(update.record.sendState.rawValue)
                json = .object(obj)
            }
            print(JSONWriter.pretty(json))
        } else {
            print(ctx.t(.sendResult(network: spec.id, lead: lead.id, outcome: ctx.t(.state(o.kind.rawValue)), externalId: o.externalId,
                                    message: o.kind == .accepted ? nil : o.message, followUp: SendFollowUp(update.record, outcome: o.kind))))
        }
        return o.kind == .accepted || o.kind == .duplicate ? .success : .partialFailure
    }

    /// A lead that names a traffic source: the source is configured, its settings are all
    /// there for the postbacks this lead gets, and the lead carries what they send back.
    static func checkSource(_ name: String, lead: Lead, config: LeadBridgeConfig?, library: SpecLibrary, _ lang: Language) throws(CLIError) {
        if let unavailable = config?.unavailableSources[name] { throw CLIError.located(unavailable.problems.map(\.description), exit: .configuration) }
        guard let source = config?.sources[name] else {
            let names = config?.sources.keys.sorted() ?? []
            throw CLIError.config(.unknownSource(name, suggestion: Suggestions.closest(to: name, among: names, limit: 1).first, hasSources: !names.isEmpty))
        }
        guard let spec = library.spec(source.network) else { throw CLIError.config("source \(name): no spec for \(source.network)") }
        let problems = OutgoingRequest.leadProblems(lead, source: spec)
        if !problems.isEmpty { throw CLIError.validation(.raw(problems.map { Say.leadProblem(source: "lead \(lead.id)", $0).text(lang) }.joined(separator: "\n"))) }
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
                                  ("differences", .array(r.differences.map(JSONValue.string)))]))
                if !ctx.args.has("json") {
                    ctx.out.out(ctx.t(.exampleResult(passed: r.passed)) + " \(r.network): \(r.name)")
                    for d in r.differences { ctx.out.out("      " + d.replacingAll("\n", with: "\n      ")) }
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
