import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// What became of one lead of a batch (`send --lead FILE` with an array or NDJSON).
enum BatchOutcome: String, CaseIterable, Sendable {
    case queued, accepted, duplicate, rejected, failed
    /// In the ledger already (queued earlier or sent): left as it is, so a batch can be run again.
    case already
    /// Not sent: being sent by another process, or it cannot be built for this network.
    case refused
    /// Not a lead: a problem in the file, reported with its line or position.
    case invalid

    var isFailure: Bool { self == .rejected || self == .failed || self == .refused || self == .invalid }
}

/// One row of a batch's report.
struct BatchRow: Sendable {
    var place: LeadBatch.Place
    var lead: String?
    var outcome: BatchOutcome
    var state: SendState?
    /// What went wrong, in English (`--json`'s `message`; the lines on the terminal follow `--lang`).
    var message: String?
}

extension SendJob {
    /// A batch: every good lead recorded in the outbox (a transaction per 5,000), then, unless
    /// `--queue`, sent one by one. Bad leads are reported where they stand and the rest go on.
    func runBatch(_ batch: LeadBatch, path: String, queueOnly: Bool) async throws(CLIError) -> ExitCode {
        let ledger = try openLedger()
        let json = ctx.args.has("json")
        let leads = batch.leads
        let progress = BatchProgress(output: ctx.out, total: leads.count, enabled: !json, plainEvery: queueOnly ? 10_000 : nil) { done, total in
            ctx.t(.batchProgress(done: done, total: total, queueOnly: queueOnly))
        }
        var rows: [BatchRow] = []
        for p in batch.problems {
            if !json { progress.note(ctx.batchProblem(p.problem, place: p.place, path: path)) }
            rows.append(BatchRow(place: p.place, outcome: .invalid, message: ctx.batchProblem(p.problem, place: p.place, path: path, in: .en)))
        }
        let results: [EnqueueResult]
        do {
            results = try ledger.enqueueAll(leads.map(\.lead), network: spec.id, account: accountName) { done in if queueOnly { progress.update(done) } }
        } catch { throw CLIError.config(.store(StoreDetail(error))) }

        if queueOnly {
            for (item, r) in zip(leads, results) {
                switch r {
                case .queued: rows.append(BatchRow(place: item.place, lead: item.lead.id, outcome: .queued, state: .queued))
                case .exists(let earlier): rows.append(BatchRow(place: item.place, lead: item.lead.id, outcome: .already, state: earlier.sendState))
                }
            }
        } else {
            let owner = Worker.identity
            let sender = LeadSender(transport: CurlTransport(connectTo: try ctx.connectTo(), environment: ctx.env.variables))
            let plain = !json && !progress.isTerminal
            for (i, (item, first)) in zip(leads, results).enumerated() {
                let lead = item.lead
                if case .exists(let earlier) = first, !ctx.args.has("resend") {
                    rows.append(BatchRow(place: item.place, lead: lead.id, outcome: .already, state: earlier.sendState))
                    if plain { print(ctx.t(.batchAlready(network: spec.id, lead: lead.id, state: ctx.t(.state(earlier.sendState.rawValue))))) }
                } else {
                    do throws(CLIError) {
                        let record = try claim(first, lead: lead, ledger: ledger, owner: owner)
                        let (attempt, update) = try await deliver(record, lead: lead, ledger: ledger, sender: sender, owner: owner)
                        let o = attempt.outcome
                        rows.append(BatchRow(place: item.place, lead: lead.id, outcome: BatchOutcome(rawValue: o.kind.rawValue) ?? .failed,
                                             state: update.record.sendState, message: o.kind == .accepted ? nil : o.message.map(redactor.redact)))
                        if plain { print(resultLine(lead, attempt, update)) }
                    } catch {
                        // A store or configuration failure stops the batch (what is queued stays
                        // queued for sync); a refusal of this one lead does not.
                        guard error.exitCode == .validation else { throw error }
                        rows.append(BatchRow(place: item.place, lead: lead.id, outcome: .refused, message: redactor.redact(error.message(.en, hint: false))))
                        if !json { progress.note(redactor.redact(error.message(ctx.lang, hint: false))) }
                    }
                }
                progress.update(i + 1)
            }
        }
        progress.finish()
        rows.sort { $0.place.order < $1.place.order }
        if json {
            print(JSONWriter.pretty(batchJSON(rows, total: batch.items.count, queueOnly: queueOnly)))
        } else {
            print(batchSummary(rows))
            let queued = rows.filter { $0.outcome == .queued }.count
            if queueOnly && queued > 0 { ctx.say(.batchQueuedNext(queued)) }
        }
        return rows.contains { $0.outcome.isFailure } ? .partialFailure : .success
    }

    /// The summary table: each outcome that happened, with its count.
    func batchSummary(_ rows: [BatchRow]) -> String {
        var table = [ctx.columns(.batchColumns)]
        for o in BatchOutcome.allCases {
            let n = rows.filter { $0.outcome == o }.count
            if n > 0 { table.append([ctx.t(.batchOutcome(o)), "\(n)"]) }
        }
        return TextTable.render(table)
    }

    func batchJSON(_ rows: [BatchRow], total: Int, queueOnly: Bool) -> JSONValue {
        let counts = BatchOutcome.allCases.map { o in (o.rawValue, JSONValue.int(rows.filter { $0.outcome == o }.count)) }
        return .obj([
            ("network", .string(spec.id)), ("account", .string(accountName)), ("queue", .bool(queueOnly)), ("leads", .int(total)),
            ("counts", .obj(counts)),
            ("results", .array(rows.map { r in
                var pairs: [(String, JSONValue)] = []
                switch r.place {
                case .file: break
                case .line(let n): pairs.append(("line", .int(n)))
                case .index(let n): pairs.append(("index", .int(n)))
                }
                pairs += [("lead", .str(r.lead)), ("result", .string(r.outcome.rawValue)), ("send_state", .str(r.state?.rawValue)), ("message", .str(r.message))]
                return .obj(pairs)
            })),
        ])
    }
}

extension LeadBatch.Place {
    /// File order: the whole file, then by line or position.
    var order: Int {
        switch self {
        case .file: return 0
        case .line(let n), .index(let n): return n
        }
    }
}

/// A batch's progress: a bar redrawn on a terminal, a plain line every `plainEvery` leads when
/// output goes to a file or a pipe (none if nil: the per-lead lines say enough).
final class BatchProgress {
    let output: CLIOutput
    let total: Int
    let enabled: Bool
    let plainEvery: Int?
    let text: (Int, Int) -> String
    private var shownPercent = -1
    private var done = 0

    init(output: CLIOutput, total: Int, enabled: Bool, plainEvery: Int?, text: @escaping (Int, Int) -> String) {
        self.output = output
        self.total = total
        self.enabled = enabled
        self.plainEvery = plainEvery
        self.text = text
    }

    var isTerminal: Bool { output.progress != nil }

    func update(_ done: Int) {
        self.done = done
        guard enabled, total > 0 else { return }
        if let draw = output.progress {
            let percent = done * 100 / total
            guard percent != shownPercent else { return }
            shownPercent = percent
            let width = 30, filled = done * width / total
            draw("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + text(done, total))
        } else if let every = plainEvery, total > every, done % every == 0 || done == total {
            output.err(text(done, total))
        }
    }

    /// A line (a bad lead, a refusal) printed above the bar.
    func note(_ line: String) {
        output.progress?("")
        output.err(line)
        if shownPercent >= 0 { shownPercent = -1; update(done) }
    }

    func finish() { if enabled { output.progress?("") } }
}
