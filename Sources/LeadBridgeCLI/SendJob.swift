import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// One `send` run once its arguments are read: the network, the account, how secrets are
/// hidden; sends one lead, shows dry runs, or hands a batch to the outbox.
struct SendJob {
    var ctx: CommandContext
    var spec: NetworkSpec
    var library: SpecLibrary
    var config: LeadBridgeConfig?
    var accountName: String
    var account: AccountValues
    var redactor: Redactor

    init(ctx: CommandContext, spec: NetworkSpec, library: SpecLibrary, accountName: String, needsConfig: Bool) throws(CLIError) {
        self.ctx = ctx
        self.spec = spec
        self.library = library
        self.accountName = accountName
        let config = try ctx.config(required: needsConfig, specs: library)
        self.config = config
        var secrets: [String] = config?.secretValues ?? []
        if let unavailable = config?.unavailableAccounts[accountName] {
            throw CLIError.located(unavailable.problems, exit: .configuration)
        }
        if let a = config?.accounts[accountName] {
            guard a.network == spec.id || spec.aliases.contains(a.network) else {
                throw CLIError.config(.accountOfOtherNetwork(account: accountName, network: a.network, wanted: spec.id))
            }
            account = a.values
        } else if accountName == "example", let ex = spec.exampleAccount {
            account = ex
        } else {
            let names = config?.accounts.values.filter { $0.network == spec.id }.map { $0.name }.sorted() ?? []
            throw CLIError.config(.unknownAccount(accountName, suggestion: Suggestions.closest(to: accountName, among: names, limit: 1).first,
                                                  network: spec.id, hasAccounts: !names.isEmpty))
        }
        let credentials = account.credentials
        secrets += spec.secretCredentialKeys.compactMap { credentials[$0] }
        redactor = Redactor(secrets: secrets)
        guard spec.send != nil else { throw CLIError.validation(.noSendAPI(spec.id)) }
    }

    func print(_ s: String) { ctx.out.out(redactor.redact(s)) }

    // MARK: dry runs

    /// The requests a send of `lead` would make, secrets hidden.
    func dryRequests(_ lead: Lead) throws(CLIError) -> [BuiltRequest] {
        do throws(SendPreparationError) { return try DryRun.requests(spec: spec, lead: lead, account: account, now: ctx.now()) } catch {
            if case .missingCredential = error { throw CLIError.config(.sendPreparation(error)) }
            throw CLIError.validation(.cannotSendLead(network: spec.id, lead: lead.id, detail: redactor.redact(ctx.t(.sendPreparation(error)))))
        }
    }

    func dryRunJSON(_ lead: Lead, _ shown: [BuiltRequest]) -> JSONValue {
        .obj([("network", .string(spec.id)), ("lead", .string(lead.id)), ("account", .string(account.name)),
              ("dry_run", .bool(true)), ("requests", .array(shown.map(DryRun.json)))])
    }

    func printDryRun(_ shown: [BuiltRequest]) {
        for (i, b) in shown.enumerated() {
            if shown.count > 1 { print((i == 0 ? "" : "\n") + ctx.t(.dryRunStep(i + 1, of: shown.count))) }
            print(DryRun.text(b, ctx.lang))
        }
    }

    // MARK: the ledger

    /// A real send or queue needs an account from the configuration and the store.
    func openLedger() throws(CLIError) -> Ledger {
        guard let config, config.accounts[accountName] != nil else { throw CLIError.usage(.exampleAccountOnlyForDryRun, command: "send") }
        let store = try ctx.openStore(config)
        return Ledger(store: store, library: library, config: config, clock: ctx.env.clock)
    }

    /// The lead recorded (or, with `--resend`, queued again) and claimed by this process; a
    /// lead sent before or being sent elsewhere is refused (exit 1 for one lead).
    func claim(_ first: EnqueueResult, lead: Lead, ledger: Ledger, owner: String) throws(CLIError) -> LeadRecord {
        do {
            var record: LeadRecord
            switch first {
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
            guard let claimed = try ledger.claim(rowId: record.rowId, owner: owner, lease: 3600) else { throw CLIError.validation(.beingSent(lead.id)) }
            return claimed
        } catch let e as CLIError { throw e } catch { throw CLIError.config(.store(StoreDetail(error))) }
    }

    /// Sends a claimed lead: the attempt's outcome and the lead as the ledger now has it.
    func deliver(_ record: LeadRecord, lead: Lead, ledger: Ledger, sender: LeadSender, owner: String) async throws(CLIError) -> (SendAttempt, LedgerUpdate) {
        let sent: SentLead
        do { sent = try await ledger.send(record, spec: spec, account: account, sender: sender, owner: owner) } catch {
            throw CLIError.config(.store(StoreDetail(error)))
        }
        if let error = sent.preparation {
            if case .missingCredential = error { throw CLIError.config(.sendPreparation(error)) }
            throw CLIError.validation(.cannotSendLead(network: spec.id, lead: lead.id, detail: redactor.redact(ctx.t(.sendPreparation(error)))))
        }
        guard let attempt = sent.attempt, let update = sent.update else { throw CLIError.validation(.beingSent(lead.id)) }
        return (attempt, update)
    }

    func resultLine(_ lead: Lead, _ attempt: SendAttempt, _ update: LedgerUpdate) -> String {
        let o = attempt.outcome
        return ctx.t(.sendResult(network: spec.id, lead: lead.id, outcome: ctx.t(.state(o.kind.rawValue)), externalId: o.externalId,
                                 message: o.kind == .accepted ? nil : o.failure.map { ctx.t(.sendFailure($0)) } ?? o.message, followUp: SendFollowUp(update.record, outcome: o.kind)))
    }

    func resultJSON(_ lead: Lead, _ attempt: SendAttempt, _ update: LedgerUpdate) -> JSONValue {
        var json = attempt.outcome.json
        if case .object(var obj) = json {
            obj["network"] = .string(spec.id)
            obj["lead"] = .string(lead.id)
            obj["attempts"] = .int(update.record.attempts)
            obj["send_state"] = .string(update.record.sendState.rawValue)
            json = .object(obj)
        }
        return json
    }

    /// One lead, sent now: recorded first, refused if already sent.
    func sendOne(_ lead: Lead) async throws(CLIError) -> ExitCode {
        let ledger = try openLedger()
        let owner = Worker.identity
        let first: EnqueueResult
        do { first = try ledger.enqueue(lead, network: spec.id, account: accountName, source: lead.source) } catch { throw CLIError.config(.store(StoreDetail(error))) }
        let record = try claim(first, lead: lead, ledger: ledger, owner: owner)
        let sender = LeadSender(transport: CurlTransport(connectTo: try ctx.connectTo(), environment: ctx.env.variables))
        let (attempt, update) = try await deliver(record, lead: lead, ledger: ledger, sender: sender, owner: owner)
        if ctx.args.has("json") { print(JSONWriter.pretty(resultJSON(lead, attempt, update))) } else { print(resultLine(lead, attempt, update)) }
        let kind = attempt.outcome.kind
        return kind == .accepted || kind == .duplicate ? .success : .partialFailure
    }
}
