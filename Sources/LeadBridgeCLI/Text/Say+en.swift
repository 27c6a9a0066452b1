import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeEmulator
import LeadBridgeNet

/// The English catalog: every message and help line of the command line.
extension Say {
    /// The lifecycle's reasons in English (the wording `--json` also shows as `note`).
    static func reasonEN(_ r: LifecycleReason) -> String {
        switch r {
        case .note(let n):
            switch n {
            case .duplicateResendKeepsAccepted: return "the network already holds this lead: a duplicate answer to a resend keeps it accepted"
            case .duplicateOfOwnAttempt: return "duplicate of our own earlier attempt, which reached the network"
            case .rejectedResendKeepsAccepted: return "the network already holds this lead: a rejected resend keeps it accepted"
            case .lateAccountError: return "a late answer to an earlier attempt: the account is wrong, and the lead stays as it is (another attempt may be out)"
            case .accountIsWrong: return "the account is wrong, not the lead: it waits in the queue until the account is fixed"
            case .lateRejected: return "a late answer to an earlier attempt: that one was rejected, and the lead stays as it is while another attempt is out"
            case .lateNotReceived: return "a late answer to an earlier attempt: that one did not arrive, another may have; the lead stays as it is"
            case .resendGaveUp: return "the resend gave up; the network still holds the lead"
            case .networkHoldsIt: return "the network already holds this lead"
            case .dedupeSafeToResend: return "the network refuses a repeated order id: safe to send again"
            case .mayHaveReached: return "may have reached the network: settled by a poll, its postback, settle or --resend"
            case .releasedBeforeWrite: return "released before the request was written"
            case .interruptedResend: return "interrupted resend; the network holds the lead"
            case .interruptedDedupe: return "interrupted while sending; the network refuses a repeated order id"
            case .interruptedWhileSending: return "interrupted while sending: check the network's cabinet, then settle it or resend with --resend"
            case .networkReportsOnIt: return "the network reports on it: it has the lead"
            case .resentOnPurpose: return "resent on purpose"
            case .foundAtNetwork: return "the operator found it at the network"
            case .notAtNetwork: return "the operator found it is not at the network: sent again"
            case .repeated: return "a repeat"
            case .firstFinalWordStays: return "the first final word stays"
            case .newWordOrDetail: return "a new word or detail"
            case .chargeback: return "chargeback"
            }
        case .inState(let n, let s):
            switch n {
            case .notDue: return "not due for sending (\(s.rawValue))"
            case .claimLost: return "the claim was lost (\(s.rawValue)): not sent"
            case .nothingInFlight: return "nothing in flight (\(s.rawValue))"
            case .beingSent: return "being sent right now (\(s.rawValue))"
            case .onlyUncertainSettled: return "only an uncertain lead is settled (\(s.rawValue))"
            }
        case .otherNetwork(let reporter, let network): return "a status from \(reporter) for a lead sent to \(network)"
        case .finalNeverPending(let from): return "\(from.rawValue) is final: it never goes back to pending"
        case .needsChargebacks(let to): return "approved → \(to.rawValue) needs a network that does chargebacks"
        case .externalIdTaken(let id, let order): return "the network answered with external id \(id), which belongs to order \(order)"
        case .alreadyInLedger(let s): return "already in the ledger (\(s.rawValue)): not queued again without --resend"
        case .noRule(let e, let s): return "no rule for \(e.rawValue) in state \(s.rawValue)"
        case .noStatusRule(let from, let to): return "no status rule for \(from?.rawValue ?? "—") → \(to.rawValue)"
        case .parked(let n, let last): return "parked after \(counted(n, "attempt", "attempts")): " + (Say.storedNote(last, .en) ?? last)
        case .statusRefused(let inner): return "status refused: " + reasonEN(inner)
        }
    }

    var en: String {
        switch self {
        case .raw(let s): return s

        case .errorPrefix: return "leadbridge: error: "
        case .warningPrefix: return "warning: "
        case .usageHint(let c): return "run 'leadbridge \(c.map { $0 + " " } ?? "")--help' for usage"
        case .unknownCommand(let c, let s): return "unknown command \"\(c)\"" + Say.suggestion(s.map { "\"\($0)\"" }, .en) + "\nrun 'leadbridge --help' for the list of commands"
        case .unknownOption(let o, let s): return "unknown option \(o)" + Say.suggestion(s, .en)
        case .optionNeedsValue(let o, let v): return "option \(o) needs a value (\(v))"
        case .optionGivenTwice(let o): return "option \(o) is given twice"
        case .optionTakesNoValue(let o): return "option \(o) takes no value"
        case .missingOption(let o): return "missing \(o)"
        case .missingArgument(let a):
            switch a {
            case .networkId: return "missing network id (see 'leadbridge networks')"
            case .postbackQuery: return "missing the postback query, e.g. 'oid=A-1&status=approve'"
            case .orderId: return "missing order id"
            case .newId: return "missing the new network's id, e.g. acme"
            case .storeFrom: return "missing FROM (a file path or a postgres:// URL)"
            case .storeTo: return "missing TO (a file path or a postgres:// URL)"
            case .reportFile: return "missing the report file (CSV) downloaded from the network's cabinet"
            }
        case .unexpectedArgument(let a): return "unexpected argument \"\(a)\""
        case .languageInvalid(let l): return "--lang must be ru or en, found \"\(l)\""
        case .overviewTitle: return "leadbridge — connects orders to CPA networks"
        case .commandsHeading: return "Commands:"
        case .helpOnACommand: return "Help on a command: leadbridge COMMAND --help"
        case .usagePrefix: return "Usage: "
        case .optionsHeading: return "Options:"
        case .didYouMean(let s): return "(did you mean \(s)?)"

        case .unknownNetwork(let n, let closest):
            return "unknown network \"\(n)\"" + (closest.isEmpty ? "" : "; closest: " + closest.joined(separator: ", ")) + " (run 'leadbridge networks' for the list)"
        case .specProblem(let d): return "spec problem (run 'leadbridge lint'): \(d)"
        case .cannotRead(let p): return "cannot read \(p)"
        case .noSuchPath(let p): return "no such file or folder: \(p)"
        case .noSpecsFound: return "no network specs found: set LEADBRIDGE_HOME to the folder that holds Networks/ and Templates/, or pass --networks DIR"
        case .noShippedTemplates: return "no shipped Templates/ found: set LEADBRIDGE_HOME to the folder that holds Networks/ and Templates/"
        case .configTooLarge(let p, let size, let limit): return "the configuration \(p) is \(size) bytes; the limit is \(limit) (see docs/limits.md)"
        case .cannotReadConfig(let p): return "cannot read the configuration \(p) (set --config or LEADBRIDGE_CONFIG)"
        case .noConfiguration: return "no configuration"
        case .store(let d): return "store: " + d.text(.en)
        case .postgresNotYet: return "PostgreSQL stores are not supported yet: set \"store\" to a file path (SQLite)"
        case .storeGoneMidPass(let d): return "store: " + d.text(.en) + "; the next pass goes on where this one stopped"
        case .networkLockHeld(let w): return "another sync holds the network \(w)"
        case .lockHeld(let p, let h): return "another sync holds the lock \(p) (\(h))"
        case .lockUnusable(let p, let r): return "cannot use the lock file \(p): \(r)"

        case .baseMustBeURL: return "--base must be an http:// or https:// URL"
        case .unknownDocument(let d): return "unknown document \"\(d)\" (docs intake)"
        case .lintSummary(let s, let e, let w): return "\(counted(s, "spec", "specs")), \(counted(e, "error", "errors")), \(counted(w, "warning", "warnings"))"
        case .postbackProblem(let n, let e): return "postback for \(n): \(e.field): \(e.problem.english)"
        case .postbackFields: return "order_id\texternal_id\tstatus\traw_status\tdetail\tpayout\tcurrency\tcomment\treason"

        case .cannotReadLead(let p): return "cannot read the lead file \(p)"
        case .leadSyntax(let p, let pos, let m): return "\(p):\(pos): \(m.english)"
        case .leadProblem(let source, let e): return "\(source): \(e.field): \(e.problem.english)"
        case .leadTooLarge(let source, let size, let limit): return "\(source): the lead is \(size) bytes; the limit is \(limit) (see docs/limits.md)"
        case .accountOfOtherNetwork(let a, let n, let w): return "account \(a) belongs to \(n), not \(w)"
        case .unknownAccount(let a, let s, let n, let has):
            return "unknown account \"\(a)\"" + Say.suggestion(s.map { "\"\($0)\"" }, .en) + (has ? "" : " (no account of \(n) in the configuration)")
        case .clickIdNeedsSource: return "--click-id belongs to a traffic source: give --source NAME too"
        case .clickIdOneLead: return "--click-id goes with one lead: in a batch give each lead its own click_id field"
        case .unknownSource(let n, let s, let has):
            return "unknown traffic source \"\(n)\"" + Say.suggestion(s.map { "\"\($0)\"" }, .en) + (has ? "" : " (add it to \"sources\" in the configuration)")
        case .sourceLacksSettings(let n, let missing, let postbacks):
            return "source \(n) lacks \(missing.joined(separator: ", ")), which its \(postbacks.text(.en).lowercased()) postbacks need: add it to sources.\(n) in the configuration"
        case .noSendAPI(let n): return "\(n) has no known send API: send leads by the network's own API documentation from your manager"
        case .cannotSendLead(let n, let l, let d): return "\(n), lead \(l): \(d)"
        case .sendPreparation(let e): return e.description
        case .sendFailure(let f): return f.english
        case .serverNotice(let n): return n.english
        case .alreadySent(let l, let n, let state, let status, let ext, let at):
            var what = state
            if let status { what += ", status \(status)" }
            if let ext { what += ", external id \(ext)" }
            return "lead \(l) was already sent to \(n) (\(what), \(at)); add --resend to send it again on purpose"
        case .beingSent(let l): return "lead \(l) is being sent by another process"
        case .exampleAccountOnlyForDryRun: return "the example account is for --dry-run; a real send needs an account from leadbridge.json"
        case .storeAfterAnswer(let d, let a): return "store: \(d) (the network answered \(a))"
        case .sendResult(let n, let l, let o, let ext, let m, let next):
            var line = "\(n) \(l): \(o)"
            if let ext { line += " (external id \(ext))" }
            if let m { line += ": \(m)" }
            switch next {
            case .none: break
            case .retriedBySync(let due): line += "; it stays queued: the next 'leadbridge sync' retries it" + (due.map { " from \($0)" } ?? "")
            case .parked(let n): line += "; parked after \(counted(n, "attempt", "attempts")): resend it with --resend once the problem is fixed"
            case .accountToFix(let a):
                line += "; the account is wrong, not the lead: it stays queued (the attempt is not counted). Fix account \(a) in the configuration; the next 'leadbridge sync' sends it"
            }
            return line
        case .dryRunStep(let i, let n): return "# step \(i) of \(n)"
        case .leadRepeated(let s, let id, let first): return "\(s): lead \(id) repeats \(first): left out (a lead is sent once)"
        case .queueAndDryRun: return "--queue and --dry-run do not go together: --dry-run shows the requests, --queue records the leads for sync"
        case .batchLeadHeading(let id): return "# lead \(id)"
        case .batchProgress(let d, let t, let q): return (q ? "queued" : "sent") + " \(d) of \(t)"
        case .batchAlready(let n, let l, let s): return "\(n) \(l): already in the ledger (\(s)), left as it is; --resend sends it again"
        case .batchColumns: return "result\tleads"
        case .batchOutcome(let o):
            switch o {
            case .already: return "already in the ledger"
            case .refused: return "not sent"
            case .invalid: return "bad lead in the file"
            default: return o.rawValue
            }
        case .batchQueuedNext(let n): return "\(counted(n, "lead", "leads")) queued: the next 'leadbridge sync' sends them"
        case .signatureInput: return "# signature input: "
        case .signature: return "# signature: "
        case .exampleResult(let passed): return passed ? "ok  " : "FAIL"
        case .passedFailed(let p, let f): return "\(p) passed, \(f) failed"

        case .state(let s): return s
        case .bucket(let b): return b
        case .syncColumns: return "network\tsent\taccepted\tduplicate\trejected\tfailed\tpolled\trequests\tchanges\tproblem"
        case .unknownStatuses(let w): return "unknown statuses: " + w.joined(separator: ", ")
        case .nothingToDo: return "nothing to do"
        case .syncProblem(let p): return p.english
        case .sourceWithoutSpec(let s, let n): return "source \(s): no spec for \(n)"
        case .uncertainWarning(let n, let leads):
            return (n == 1 ? "1 lead may have reached its network and is now uncertain (never sent again by itself): "
                    : "\(n) leads may have reached their network and are now uncertain (never sent again by themselves): ") + leads.joined(separator: ", ")
        case .uncertainSettledBy(let network, let ways): return "  \(network): settled by " + ways.joined(separator: "; ")
        case .uncertainOpen(let n): return "\(counted(n, "lead", "leads")) uncertain, waiting to be settled: leadbridge leads --state uncertain"
        case .stateFilterInvalid(let s, let sug, let all): return "--state must be one of " + all.joined(separator: ", ") + ", found \"\(s)\"" + Say.suggestion(sug.map { "\"\($0)\"" }, .en)
        case .uncertainInList(let n): return "\(n) uncertain: may have reached the network, never sent again by itself; 'leadbridge lead ID' says what settles each"
        case .uncertainLead(let network, let ways): return "  may have reached \(network), never sent again by itself; settled by: " + ways.joined(separator: "; ")
        case .settlement(let way, let lead, let network):
            switch way {
            case .postback: return "its postback"
            case .poll: return "the next status poll"
            case .settle: return "leadbridge settle \(lead) --network \(network) --as accepted|not-sent"
            case .resend: return "leadbridge send \(network) --lead FILE --account NAME --resend"
            }
        case .settleAsInvalid(let w, let sug): return "--as must be accepted or not-sent, found \"\(w)\"" + Say.suggestion(sug.map { "\"\($0)\"" }, .en)
        case .noLeadAtNetwork(let l, let n, let sentTo):
            return "no lead \"\(l)\" at \(n) in the ledger" + (sentTo.isEmpty ? "" : " (it was sent to \(sentTo.joined(separator: ", ")))")
        case .settleRefused(let l, let n, let state, let reason): return "\(l) at \(n) is \(state), not uncertain: \(Say.reasonEN(reason)); nothing changed"
        case .settledLead(let l, let n, let from, let to, let accepted):
            return "\(l) at \(n): \(from) → \(to); " + (accepted ? "the network has it: its status is polled from now on" : "it is queued: the next 'leadbridge sync' sends it again")
        case .statusChanges(let n): return counted(n, "status change", "status changes")
        case .unavailableAccount(let a, let p): return "account \(a) is skipped: \(p)"
        case .statusFilterInvalid: return "--status must be pending, approved, cancelled or trash"
        case .leadsColumns: return "lead\tnetwork\tsend\tstatus\traw\texternal id\tpayout\tupdated"
        case .noLeads: return "no leads"
        case .leadHeadline(let l, let n, let a, let state, let status, let ext, let source):
            return "\(l) at \(n) (account \(a)): \(state), status \(status ?? "—")" + (ext.map { ", external id \($0)" } ?? "") + (source.map { ", from \($0)" } ?? "")
        case .lastError(let e): return "  last error: \(e)"
        case .journalSource(let s): return s
        case .journalKind(let k): return k
        case .lifecycleReason(let r): return Say.reasonEN(r)
        case .diagnostic(let d): return d.description
        case .diagnosticMessage(let m): return m.english
        case .emulatorFaults(let e): return e.english
        case .connectToRule(let e): return e.english
        case .exampleDifference(let d): return d.english
        case .journalAttempt(let n, let o): return "attempt \(n): \(o)"
        case .receipt(let r): return r.rawValue
        case .postbackResult(let r): return r.rawValue
        case .outgoingState(let s): return s.rawValue
        case .leadLabel(let id): return "lead \(id)"
        case .milliseconds(let n): return "\(n) ms"
        case .journalStatus(let from, let to, let raw): return "status \(from ?? "—") → \(to ?? "—")" + (raw.map { " (\($0))" } ?? "")
        case .noSuchLead(let id): return "no lead \"\(id)\" in the ledger"
        case .outgoingHeading(let source): return "  postbacks to \(source ?? "its source"):"
        case .outgoingLine(let source, let kind, let status, let state, let attempts, let next, let request):
            return ["\(source) \(kind) \(status)", state, counted(attempts, "attempt", "attempts")].joined(separator: "  ") + (next.map { "  next \($0)" } ?? "") + "  " + request
        case .outgoingAnswers(let a): return "answers: " + a
        case .replayOneOrAll: return "give --replay ID or --replay-all, not both"
        case .replayNeedsNumber: return "--replay takes the number of a postback (leadbridge outgoing --failed lists them)"
        case .noFailedOutgoing(let id): return "no failed outgoing postback \(id) (leadbridge outgoing --failed lists them)"
        case .outgoingReplayed(let n): return counted(n, "postback", "postbacks") + " queued again: the next 'leadbridge sync' (or a running serve) delivers them"
        case .noOutgoing(let failedOnly): return failedOnly ? "no failed outgoing postbacks" : "no outgoing postbacks"
        case .outgoingReplayHint: return "replay one with 'leadbridge outgoing --replay ID', every failed one with --replay-all, once the problem is fixed"
        case .exportNeedsFormat: return "say the format: --csv"
        case .schemaUpToDate(let p, let v): return "\(p): schema version \(v), up to date"
        case .schemaMigrated(let p, let a, let b): return "\(p): schema version \(a) → \(b)"
        case .migrationApplied(let v, let n): return "  applied \(v) \(n)"
        case .copySameStore: return "FROM and TO are the same store"
        case .copyFailed(let d): return "copy-store: \(d)"
        case .copyColumns: return "source\ttarget\tcopied now"
        case .copyWhat(let w): return w
        case .copyVerified(let ok): return ok ? "verified: the target holds every row of the source" : "NOT verified: the counts differ (the target holds other rows)"
        case .copyCountsDiffer: return "copy-store: the target's counts differ from the source's"

        case .importHeading(let f, let e, let d, let h): return "Report: \(f) (\(e), \(d == "tab" ? "tab" : "'\(d)'"), header on line \(h))"
        case .importColumns(let c): return "Columns: \(c)"
        case .importCounts(let rows, let c, let u, let r, let m, let k, let s):
            return "Rows: \(rows); changed \(c), unchanged \(u), refused \(r), not matched \(m), unknown status \(k), skipped \(s)"
        case .importChangedHeading(let dry): return dry ? "Would change:" : "Changed:"
        case .importRefusedHeading: return "Refused by the status rules (an entry in the lead's history):"
        case .importUnmatchedHeading(let n): return "Not matched at \(n) (no lead with that id):"
        case .importUnknownHeading: return "Unknown status words (add them to the spec's report.statuses or statuses):"
        case .importSkippedHeading: return "Skipped:"
        case .importMore(let n): return "… and \(n) more"
        case .importLine(let n): return "line \(n)"
        case .importNetworkLead(let id): return "network lead \(id)"
        case .importOurId(let id): return "our id \(id)"
        case .importNetworkId(let id): return "network id \(id)"
        case .importRows(let n): return n == 1 ? "1 row" : "\(n) rows"
        case .importDryRun: return "Dry run (--dry-run): nothing was written."
        case .reportUnreadable(let f, let e): return "\(f): the file is not readable as \(e)"
        case .reportProblem(let f, let e): return "\(f): \(e.message)"
        case .reportError(let e): return e.message

        case .receiverNeedsToken(let f): return "the receiver needs a token: set receiver.token (or receiver.tokens per network) in \(f)"
        case .allowListInvalid(let e): return "receiver allow-list entries that are not an IP address or CIDR network: " + e.joined(separator: ", ")
        case .listenInvalid(let t): return "--listen must be HOST:PORT, found \"\(t)\""
        case .cannotListen(let a, let d): return "cannot listen on \(a): \(d)"
        case .listening(let u): return "leadbridge: listening on \(u)"
        case .consoleAt(let u): return "leadbridge: the operator's console is at \(u)/console, metrics at /metrics"
        case .consoleOff(let why): return "the operator's console is off: \(why)"
        case .outgoingNotQueued(let d): return "leadbridge: outgoing postbacks not queued: \(d)"
        case .stopping: return "leadbridge: stopping (finishing requests in flight)"
        case .stopped: return "leadbridge: stopped"
        case .backgroundFailed(let d): return "leadbridge: background work: \(d)"
        case .replaySummary(let a, let w, let c): return counted(a, "postback", "postbacks") + " applied, \(w) still waiting for their lead, " + counted(c, "status change", "status changes")

        case .listenNotLoopback: return "--listen must be a loopback HOST:PORT"
        case .receiverNeedsToken2: return "--receiver needs --token (or LEADBRIDGE_TOKEN)"
        case .emulating(let n, let u): return "leadbridge: emulating \(n) networks on \(u)"
        case .demoLeadsRange: return "--leads must be 1…2000"
        case .demoFolderTaken(let f): return "\(f) already holds a demo ledger; choose an empty folder"
        case .cannotCreate(let p, let d): return "cannot create \(p): \(d)"
        case .demoSetup(let e):
            switch e {
            case .cannotListen(let part, let d): return "the demo's \(part == .receiver ? "postback receiver" : "network emulator") cannot listen on 127.0.0.1: \(d)"
            case .unknownNetwork(let n): return "the demo's network \(n) is not in the catalog"
            case .cannotPrepare(let f, let d): return "cannot prepare the demo's folder \(f): \(d)"
            }
        case .demoHeader(let n, let l, let e, let r):
            return "LeadBridge demo: \(n) networks, \(l) leads each, emulator on 127.0.0.1:\(e), receiver on 127.0.0.1:\(r)"
        case .demoProgress(let p, let s, let t, let f, let sec): return "  pass \(p): \(s)/\(t) sent, \(f) final, \(sec) s"
        case .demoColumns: return "network\tsent\taccepted\tduplicate\trejected\tapproved\tcancelled\ttrash\tpending\tretries"
        case .demoSummary(let l, let s, let p, let t, let pb):
            return "\(l) leads in \(s) s, \(p) sync passes; sent twice to a network: \(t); postbacks received: \(pb)."
        case .demoKept(let f): return "Kept in \(f): leadbridge.json and ledger.sqlite. Try:"
        case .demoTryNext: return "Try next (one command a line):"

        case .newWrote(let p, let s): return "Wrote \(p): \(s)."
        case .newNextPlatform: return "Confirm with the network's manager that it runs on this platform and say so in sources, then:"
        case .newNext: return "Replace the address, fields and examples with those of the network's documentation, then:"
        case .newIdTaken(let id, let owner, let name):
            return "\"\(id)\" is already the id or an alias of \(owner) (\(name)); a spec of yours with that id would replace it — choose another id"
        case .newIntoShippedCatalog(let p): return "\(p) is the shipped catalog; write your spec elsewhere (the default is the current folder)"
        case .newExists(let p): return "\(p) already exists; edit it, or remove it to start again"
        case .cannotWrite(let p, let d): return "cannot write \(p): \(d)"
        case .newBadId(let id): return "the id must be lowercase letters, digits and '-', starting with a letter or digit (at most 64), found \"\(id)\""
        case .newUnknownStyle(let s, let sug, let all):
            return "unknown style \"\(s)\"" + Say.suggestion(sug.map { "\"\($0)\"" }, .en) + " (one of " + all.joined(separator: ", ") + ")"
        case .newNameLength: return "--name must be 1 to 100 characters"
        case .cannotReadStarter(let p): return "cannot read the starter \(p)"
        case .hostWithoutPlatform: return "--host goes with --platform (the starter styles put their own host)"
        case .styleAndPlatform: return "--style and --platform do not mix: a platform spec takes everything from its base"
        case .unknownPlatform(let p, let sug, let all):
            return "unknown platform \"\(p)\"" + Say.suggestion(sug.map { "\"\($0)\"" }, .en) + " (one of " + all.joined(separator: ", ") + ")"
        case .platformNeedsHost(let id): return "--platform \(id) needs --host, the network's API host (e.g. api.example.com)"
        case .hostInvalid(let h): return "--host must be a host name such as api.example.com (optionally with a path), found \"\(h)\""
        case .platformSummary(let n, let h, let id): return "a network on \(n) (\(h)): sending and statuses come from its base Templates/\(id).json"
        }
    }
}

extension HelpText {
    /// Command summaries (by command) and option help (by "command --option", or "--option"
    /// for an option several commands share), in English.
    static let en: [String: String] = [
        "networks": "list networks and what each spec supports",
        "show": "a network's settings, parameters, postbacks and notes",
        "postbacks": "postback tails for the network's cabinet (full URLs with --base)",
        "postbacks --base": "receiver URL, e.g. https://t.example.com/postback/drcash?token=T",
        "docs": "the whole network catalog as one document; docs intake — the integration document for a traffic source",
        "lint": "validate network specs",
        "lint --strict": "treat warnings as errors",
        "postback": "normalize one incoming postback (stores nothing)",
        "send": "send leads to a network: one lead, a JSON array or NDJSON (--queue: leave them for sync; --dry-run: print the requests, send nothing)",
        "send --lead": "lead file: one lead (JSON), a JSON array or NDJSON; - reads standard input",
        "send --queue": "put the leads in the outbox for the next sync instead of sending now",
        "send --account": "account from leadbridge.json (or example: the spec's example account)",
        "send --dry-run": "only print the request (secrets hidden)",
        "send --resend": "send again a lead already sent to this network",
        "test": "run the specs' examples offline (requests and outcomes)",
        "new": "write a starter spec ID.json (with examples) into the current folder",
        "new --style": "API style: form, json, query, list-poll, keyed-poll (default form)",
        "new --name": "the network's name (default: from the id)",
        "new --out": "folder for the file (default: the current one)",
        "new --platform": "the network's platform, a base in Templates/ (altercpa, trafficmanager, …; a wrong name lists them): a spec on its base, needs --host",
        "new --host": "the network's API host on the platform, e.g. api.cpa.moe or cashfactories.com/api",
        "sync": "one cron pass: send the outbox, poll statuses, outgoing postbacks",
        "leads": "what happened to leads",
        "leads --status": "pending, approved, cancelled, trash",
        "leads --state": "send state: " + SendState.allCases.map(\.rawValue).joined(separator: ", "),
        "settle": "settle an uncertain lead after a look in the network's cabinet",
        "settle --network": "the network the lead was sent to",
        "settle --as": "accepted: the lead is in the cabinet (polled from now on); not-sent: it is not (sent again)",
        "leads --limit": "at most N rows (default 1000)",
        "lead": "one lead and its status history",
        "outgoing": "outgoing postbacks to traffic sources: the queue, the answers, replaying failed ones",
        "outgoing --failed": "only those that failed for good",
        "outgoing --replay": "queue the failed postback with this number again",
        "outgoing --replay-all": "queue every failed postback again",
        "outgoing --limit": "at most N rows (default 1000)",
        "send --source": "the order's traffic source (from sources in leadbridge.json): it gets postbacks of the statuses",
        "send --click-id": "the source's click id (LeadCraft referral traffic: a UUID)",
        "export": "export every lead as CSV",
        "export --csv": "CSV format (RFC 4180)",
        "copy-store": "move a ledger between stores (SQLite ↔ PostgreSQL); safe to run again; counts are verified",
        "import": "apply statuses from the lead report downloaded from the network's cabinet (CSV)",
        "import --map": "which column holds what: status=Статус,order=sub1 (roles: order, external, status, payout, currency, comment)",
        "import --dry-run": "show what would change, write nothing",
        "status": "health for monitors: exit 2 when a network is failing or the outbox is stuck",
        "migrate": "bring the store's schema up to date (migrations in order, each recorded)",
        "serve": "receiver: network postbacks, leads from sources, outgoing postbacks, /health",
        "serve --listen": "address and port (default from the config or 127.0.0.1:8080)",
        "postbacks-replay": "apply stored postbacks whose lead now exists",
        "postbacks-replay --unknown-statuses": "also postbacks with unknown status words (after a spec fix)",
        "emulate": "loopback emulator of the networks, driven by their specs",
        "emulate --listen": "address and port (127.0.0.1:9100)",
        "emulate --only": "only these networks, comma-separated",
        "emulate --faults": "faults: kma:5xx=0.2,429=0.05,timeout=0.05,reset=0.05,garbage=0.05,error200=0.05,slow=200;*:5xx=0.1",
        "emulate --settle": "seconds to a final status (5)",
        "emulate --receiver": "where to send postbacks (http://127.0.0.1:8080)",
        "emulate --token": "receiver token for postbacks",
        "demo": "the whole loop against the built-in network emulator: send, postbacks, polling",
        "demo --leads": "leads per network (40)",
        "demo --keep": "keep the store and config in this folder",
        "demo --faults": "emulator faults (default *:5xx=0.05,429=0.02)",
        "--network": "only this network",
        "sync --join": "another worker of a running pass: no lock, leads are shared out by claims",
        "--connect-to": "send a host's requests to a loopback address: host=127.0.0.1:9100",
        "--json": "JSON output",
        "--help": "show help",
        "--lang": "output language: ru (default) or en",
        "--networks": "extra spec folder (overrides shipped specs)",
        "--config": "config file (default ./leadbridge.json)",
    ]
}
