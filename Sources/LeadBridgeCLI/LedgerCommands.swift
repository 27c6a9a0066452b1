import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

extension CommandContext {
    /// The store named by the configuration, as the port.
    func openStore(_ config: LeadBridgeConfig, backgroundCheckpoints: Bool = false) throws(CLIError) -> any LeadStore {
        try openLedger(config, backgroundCheckpoints: backgroundCheckpoints).store
    }

    func now() -> Int64 { env.clock() }

    /// Specs plus the configuration checked against them (sync, serve).
    func checkedConfiguration() throws(CLIError) -> (SpecLibrary, LeadBridgeConfig) {
        let lib = try library()
        return (lib, try requiredConfig(specs: lib))
    }
}

/// `sync`, `leads`, `lead`, `export`: the cron pass and the ledger views.
enum LedgerCommands {
    static let sync = Command(
        name: "sync", arguments: "",
        options: [LeadBridgeCommand.json, SendCommands.connectOption,
                  OptionSpec(name: "network", takesValue: true, valueName: "N"),
                  OptionSpec(name: "join", takesValue: false)]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let (lib, config) = try ctx.checkedConfiguration()
        var network: String?
        if let n = ctx.args.value("network") { network = try ctx.network(n, in: lib).id }
        let opened = try ctx.openLedger(config)
        let store = opened.store
        let started = ctx.now()
        let lock = ctx.args.has("join") ? CronLock.none
            : try opened.cronLock(networks: network.map { [$0] } ?? config.accounts.values.map(\.network), now: started)
        defer { withExtendedLifetime(lock) {} }
        let redactor = Redactor(secrets: config.secretValues)
        // Accounts an unset variable makes unusable are reported; the others go on (exit 2).
        let unavailable = (config.unavailableAccounts.merging(config.unavailableSources) { a, _ in a })
            .filter { network == nil || $0.value.account.network == network }.sorted { $0.key < $1.key }
        let json = ctx.args.has("json")
        let syncer = Syncer(store: store, library: lib, config: config, transport: CurlTransport(connectTo: try ctx.connectTo(), environment: ctx.env.variables), clock: ctx.env.clock)
        let options = SyncOptions(network: network, maxAttempts: config.sync.maxAttempts, retryBaseSeconds: config.sync.retryBaseSeconds,
                                  pollIntervalSeconds: config.sync.pollIntervalSeconds, outgoingDelays: config.sync.outgoingDelays)
        let out = ctx.out
        // One line per change: written in large chunks, not one write(2) per line.
        let changes = BufferedLines(out.out)
        let report: SyncReport
        do {
            report = try await syncer.run(options) { change in
                guard json else { return }
                changes.add(JSONWriter.compact(.obj([("lead", .string(change.orderId)), ("network", .string(change.network)), ("from", .str(change.from?.rawValue)),
                                                     ("to", .string(change.to.rawValue)), ("raw_status", .str(change.raw)), ("source", .string(change.source.rawValue))])))
            }
        } catch {
            changes.flush()
            // A database that went away mid-pass is a failed pass (exit 2): what was committed
            // stays, a lead whose request was out becomes uncertain, the next pass goes on.
            if (error as? StoreError)?.kind == .unavailable { throw CLIError.partial(.storeGoneMidPass(StoreDetail(error))) }
            throw CLIError.config(.store(StoreDetail(error)))
        }
        changes.flush()
        if json {
            var summary = report.summaryJSON
            if case .object(var o) = summary {
                o["unavailable_accounts"] = .array(unavailable.map { name, a in
                    .obj([("account", .string(name)), ("network", .string(a.account.network)), ("problems", .array(a.problems.map { .string($0.description) }))])
                })
                summary = .object(o)
            }
            out.out(redactor.redact(JSONWriter.compact(summary)))
        } else {
            for (_, a) in unavailable { for p in a.problems { out.err(ctx.t(.diagnostic(p))) } }
            var rows = [ctx.columns(.syncColumns)]
            for (id, n) in report.networks.sorted(by: { $0.key < $1.key }) {
                rows.append([id, "\(n.sent)", "\(n.accepted)", "\(n.duplicate)", "\(n.rejected)", "\(n.failed)", "\(n.polled)", "\(n.pollRequests)",
                             "\(n.changes)", redactor.redact(n.problem.map { ctx.t(.syncProblem($0)) } ?? (n.unknownWords.isEmpty ? "" : ctx.t(.unknownStatuses(n.unknownWords))))])
            }
            out.out(rows.count == 1 ? ctx.t(.nothingToDo) : TextTable.render(rows))
            if !report.uncertain.isEmpty {
                ctx.warn(.uncertainWarning(count: report.uncertain.count, leads: report.uncertain.map { "\($0.network)/\($0.orderId)" }))
                for (network, leads) in Dictionary(grouping: report.uncertain, by: \.network).sorted(by: { $0.key < $1.key }) {
                    let lead = leads.count == 1 ? leads[0].orderId : "LEAD"
                    out.err(ctx.t(.uncertainSettledBy(network: network, ways: settlements(network, lib).map { ctx.t(.settlement($0, lead: lead, network: network)) })))
                }
            }
            ctx.say(.statusChanges(report.changes.count))
            if report.uncertainOpen > 0 { ctx.say(.uncertainOpen(report.uncertainOpen)) }
        }
        return report.hasFailures || !unavailable.isEmpty ? .partialFailure : .success
    }

    static let leads = Command(
        name: "leads", arguments: "",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "status", takesValue: true, valueName: "S"),
                  OptionSpec(name: "state", takesValue: true, valueName: "S"),
                  OptionSpec(name: "network", takesValue: true, valueName: "N"),
                  OptionSpec(name: "limit", takesValue: true, valueName: "N")]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config)
        var query = LeadQuery(limit: Int(ctx.args.value("limit") ?? "1000") ?? 1000)
        if let s = ctx.args.value("status") {
            guard let b = Bucket(rawValue: s) else { throw CLIError.usage(.statusFilterInvalid, command: "leads") }
            query.status = b
        }
        if let s = ctx.args.value("state") {
            let words = SendState.allCases.map(\.rawValue)
            guard let state = SendState(rawValue: s) else {
                throw CLIError.usage(.stateFilterInvalid(s, suggestion: Suggestions.closest(to: s, among: words, limit: 1).first, all: words), command: "leads")
            }
            query.state = state
        }
        if let n = ctx.args.value("network") { query.network = n.lowercased() }
        let records: [LeadRecord]
        do { records = try store.leads(query) } catch { throw CLIError.config(.store(StoreDetail(error))) }
        let library = try? ctx.library()
        if ctx.args.has("json") {
            ctx.printJSON(.array(records.map { leadJSON($0, library: library) }))
        } else {
            var rows = [ctx.columns(.leadsColumns)]
            for r in records {
                rows.append([r.orderId, r.network, ctx.t(.state(r.sendState.rawValue)), r.status.map { ctx.t(.bucket($0.bucket.rawValue)) } ?? "—", r.status?.raw ?? "", r.externalId ?? "",
                             [r.payout, r.currency].compactMap { $0 }.joined(separator: " "), ISODate.format(r.updatedAt)])
            }
            ctx.out.out(records.isEmpty ? ctx.t(.noLeads) : TextTable.render(rows))
            let uncertain = records.filter { $0.sendState == .uncertain }.count
            if uncertain > 0 { ctx.say(.uncertainInList(uncertain)) }
        }
        return .success
    }

    static let lead = Command(
        name: "lead", arguments: "<order id>",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let id = try ctx.positional(0, .orderId)
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config)
        let records: [LeadRecord]
        var history: [[JournalEntry]] = []
        var outgoing: [[OutgoingPostback]] = []
        do {
            records = try store.leads(orderId: id)
            for r in records {
                history.append(try store.journal(rowId: r.rowId))
                outgoing.append(try store.outgoingPostbacks(leadRowId: r.rowId))
            }
        } catch { throw CLIError.config(.store(StoreDetail(error))) }
        guard !records.isEmpty else { throw CLIError.validation(.noSuchLead(id)) }
        let library = try? ctx.library()
        if ctx.args.has("json") {
            ctx.printJSON(.array(records.indices.map { i in
                guard case .object(var o) = leadJSON(records[i], library: library) else { return .null }
                o["events"] = .array(history[i].map(journalJSON))
                o["outgoing"] = .array(outgoing[i].map { outgoingJSON($0, orderId: records[i].orderId) })
                return .object(o)
            }))
            return .success
        }
        for (i, r) in records.enumerated() {
            ctx.say(.leadHeadline(lead: r.orderId, network: r.network, account: r.account, state: ctx.t(.state(r.sendState.rawValue)),
                                  status: r.status.map { ctx.t(.bucket($0.bucket.rawValue)) }, externalId: r.externalId, source: r.source))
            if let e = Say.storedNote(r.lastError, ctx.lang) { ctx.say(.lastError(e)) }
            if r.sendState == .uncertain {
                ctx.say(.uncertainLead(network: r.network, ways: settlements(r.network, library).map { ctx.t(.settlement($0, lead: r.orderId, network: r.network)) }))
            }
            for e in history[i] { ctx.out.out("  " + journalLine(e, ctx.lang)) }
            if !outgoing[i].isEmpty {
                ctx.say(.outgoingHeading(source: r.source))
                for p in outgoing[i] { ctx.out.out("    " + outgoingLine(p, ctx.lang)) }
            }
        }
        return .success
    }

    static let outgoing = Command(
        name: "outgoing", arguments: "",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "failed", takesValue: false),
                  OptionSpec(name: "replay", takesValue: true, valueName: "ID"),
                  OptionSpec(name: "replay-all", takesValue: false),
                  OptionSpec(name: "limit", takesValue: true, valueName: "N")]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config)
        let replayAll = ctx.args.has("replay-all")
        if ctx.args.value("replay") != nil || replayAll {
            var ids: [Int64] = []
            if let v = ctx.args.value("replay") {
                guard !replayAll else { throw CLIError.usage(.replayOneOrAll, command: "outgoing") }
                guard let id = Int64(v), id > 0 else { throw CLIError.usage(.replayNeedsNumber, command: "outgoing") }
                ids = [id]
            }
            let now = ctx.now()
            let replayed: Int
            do {
                if replayAll { ids = try store.outgoing(OutgoingQuery(state: .failed, limit: Int.max)).map(\.id) }
                let chosen = ids
                replayed = try store.write { (w: any LedgerWriter) throws(StoreError) -> Int in try w.replayOutgoing(ids: chosen, at: now) }
            } catch { throw CLIError.config(.store(StoreDetail(error))) }
            if !replayAll && replayed == 0 { throw CLIError.validation(.noFailedOutgoing(ids.first ?? 0)) }
            if ctx.args.has("json") {
                ctx.printJSON(.obj([("replayed", .int(replayed))]))
            } else {
                ctx.say(.outgoingReplayed(replayed))
            }
            return .success
        }
        let limit = Int(ctx.args.value("limit") ?? "1000") ?? 1000
        var rows: [(OutgoingPostback, String)] = []
        do {
            var orders: [Int64: String] = [:]
            for p in try store.outgoing(OutgoingQuery(state: ctx.args.has("failed") ? .failed : nil, limit: limit)) {
                if orders[p.leadRowId] == nil { orders[p.leadRowId] = try store.record(rowId: p.leadRowId)?.orderId ?? "#\(p.leadRowId)" }
                rows.append((p, orders[p.leadRowId] ?? ""))
            }
        } catch { throw CLIError.config(.store(StoreDetail(error))) }
        if ctx.args.has("json") {
            ctx.printJSON(.array(rows.map { outgoingJSON($0.0, orderId: $0.1) }))
        } else if rows.isEmpty {
            ctx.say(.noOutgoing(failedOnly: ctx.args.has("failed")))
        } else {
            for (p, order) in rows { ctx.out.out("\(p.id)  \(order)  " + outgoingLine(p, ctx.lang)) }
            if rows.contains(where: { $0.0.state == .failed }) { ctx.say(.outgoingReplayHint) }
        }
        return .success
    }

    /// One outgoing postback as `lead ID` and `outgoing` print it: what, where it stands, the
    /// source's answers.
    static func outgoingLine(_ p: OutgoingPostback, _ l: Language) -> String {
        var line = Say.outgoingLine(source: p.source, kind: p.kind, status: p.status, state: p.state.rawValue, attempts: p.attempts,
                                    next: p.state == .due ? ISODate.format(p.nextAttemptAt) : nil, request: "\(p.method) \(p.url)").text(l)
        if let answers = p.lastError { line += "\n      " + Say.outgoingAnswers(OutgoingAnswers.worded(answers) { Say.sendFailure($0).text(l) }).text(l) }
        return line
    }

    static func outgoingJSON(_ p: OutgoingPostback, orderId: String) -> JSONValue {
        .obj([("id", .int(Int(p.id))), ("lead", .string(orderId)), ("source", .string(p.source)), ("kind", .string(p.kind)), ("status", .string(p.status)),
              ("state", .string(p.state.rawValue)), ("attempts", .int(p.attempts)),
              ("next_attempt_at", p.state == .due ? .string(ISODate.format(p.nextAttemptAt)) : .null), ("method", .string(p.method)),
              ("url", .string(p.url)), ("answers", .str(p.lastError.map { OutgoingAnswers.worded($0) { $0.english } })), ("created_at", .string(ISODate.format(p.createdAt)))])
    }

    static let export = Command(
        name: "export", arguments: "",
        options: [OptionSpec(name: "csv", takesValue: false, required: true)]
    ) { ctx throws(CLIError) in
        guard ctx.args.has("csv") else { throw CLIError.usage(.exportNeedsFormat, command: "export") }
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config)
        let records: [LeadRecord]
        do { records = try store.leads(LeadQuery(limit: Int.max)) } catch { throw CLIError.config(.store(StoreDetail(error))) }
        let header = ["order_id", "network", "account", "send_state", "status", "raw_status", "detail", "external_id", "payout", "currency", "reason", "comment", "created_at", "updated_at"]
        ctx.out.out(header.joined(separator: ","))
        for r in records {
            let cells = [r.orderId, r.network, r.account, r.sendState.rawValue, r.status?.bucket.rawValue ?? "", r.status?.raw ?? "", r.status?.detail ?? "",
                         r.externalId ?? "", r.payout ?? "", r.currency ?? "", r.reason ?? "", r.comment ?? "", ISODate.format(r.createdAt), ISODate.format(r.updatedAt)]
            ctx.out.out(cells.map(csv).joined(separator: ","))
        }
        return .success
    }

    /// RFC 4180 quoting; a leading `=+-@` is prefixed with `'` so spreadsheets do not run it.
    static func csv(_ s: String) -> String {
        var v = s
        if let f = v.first, "=+-@".contains(f) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) { return "\"" + v.replacingAll("\"", with: "\"\"") + "\"" }
        return v
    }

    /// One journal entry as a line of `lead ID`: when, who, what, what moved.
    static func journalLine(_ e: JournalEntry, _ l: Language) -> String {
        let source = Say.journalSource(e.source.rawValue).text(l)
        var parts = [ISODate.format(e.at), source + String(repeating: " ", count: max(0, 10 - source.count))]
        var what = Say.journalKind(e.kind.rawValue).text(l)
        if let a = e.attempt {
            what = Say.journalAttempt(a.number, outcome: Say.state(a.outcome.rawValue).text(l)).text(l)
            var how = [a.receipt.map { Say.receipt($0).text(l) }, a.httpStatus.map { "HTTP \($0)" }, a.durationMs.map { Say.milliseconds($0).text(l) }].compactMap { $0 }
            if e.kind == .refused { how.insert(Say.journalKind(JournalKind.refused.rawValue).text(l), at: 0) }
            if !how.isEmpty { what += " (" + how.joined(separator: ", ") + ")" }
        }
        parts.append(what)
        func state(_ s: SendState) -> String { Say.state(s.rawValue).text(l) }
        if let from = e.fromState, let to = e.toState, from != to { parts.append("\(state(from)) → \(state(to))") } else if e.fromState == nil, let to = e.toState { parts.append("→ \(state(to))") }
        if e.fromStatus != e.toStatus || (e.kind == .status && e.toStatus != nil) {
            parts.append(Say.journalStatus(from: e.fromStatus.map { Say.bucket($0.rawValue).text(l) }, to: e.toStatus.map { Say.bucket($0.rawValue).text(l) }, raw: e.raw).text(l))
        }
        if let n = Say.note(reason: e.reason, failure: e.failure, text: e.note, l) { parts.append(n) }
        return parts.joined(separator: "  ")
    }

    static func journalJSON(_ e: JournalEntry) -> JSONValue {
        .obj([("at", .string(ISODate.format(e.at))), ("kind", .string(e.kind.rawValue)), ("source", .string(e.source.rawValue)),
              ("from", .str(e.fromStatus?.rawValue)), ("to", .str(e.toStatus?.rawValue)), ("state_from", .str(e.fromState?.rawValue)),
              ("state_to", .str(e.toState?.rawValue)), ("raw_status", .str(e.raw)), ("detail", .str(e.detail)),
              ("attempt", e.attempt.map { a in
                  .obj([("number", .int(a.number)), ("outcome", .string(a.outcome.rawValue)), ("receipt", .str(a.receipt?.rawValue)),
                        ("http_status", a.httpStatus.map { .int($0) } ?? .null), ("duration_ms", a.durationMs.map { .int($0) } ?? .null)])
              } ?? .null),
              ("note", .str(Say.note(reason: e.reason, failure: e.failure, text: e.note, .en))), ("reason", .str(e.reason?.code))])
    }

    /// What settles an uncertain lead of a network (the operator's ways when its spec is unknown).
    static func settlements(_ network: String, _ library: SpecLibrary?) -> [Settlement] {
        library?.spec(network)?.settlements ?? [.settle, .resend]
    }

    /// A lead's JSON with `settled_by`: for an uncertain lead, what settles it.
    static func leadJSON(_ r: LeadRecord, library: SpecLibrary?) -> JSONValue {
        guard case .object(var o) = leadJSON(r) else { return .null }
        o["settled_by"] = r.sendState == .uncertain ? .array(settlements(r.network, library).map { .string($0.rawValue) }) : .null
        return .object(o)
    }

    static func leadJSON(_ r: LeadRecord) -> JSONValue {
        .obj([("lead", .string(r.orderId)), ("network", .string(r.network)), ("account", .string(r.account)), ("send_state", .string(r.sendState.rawValue)),
              ("status", .str(r.status?.bucket.rawValue)), ("raw_status", .str(r.status?.raw)), ("detail", .str(r.status?.detail)),
              ("external_id", .str(r.externalId)), ("payout", .str(r.payout)), ("currency", .str(r.currency)), ("reason", .str(r.reason)),
              ("comment", .str(r.comment)), ("attempts", .int(r.attempts)), ("last_error", .str(Say.storedNote(r.lastError, .en))),
              ("created_at", .string(ISODate.format(r.createdAt))), ("updated_at", .string(ISODate.format(r.updatedAt)))])
    }
}
