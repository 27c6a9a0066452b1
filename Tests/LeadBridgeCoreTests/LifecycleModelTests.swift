import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport

/// The lifecycle written a second time, plainly and without tables: what state and status a
/// lead should have after an event. The model-based test holds the table-driven lifecycle to
/// it on every step, so removing or reordering a row of the tables shows up as a difference.
enum ReferenceLifecycle {
    static func state(_ f: LeadFacts, _ e: LifecycleEvent, _ p: LifecyclePolicy, now: Int64) -> SendState {
        let s = f.state
        let inFlight = s == .claimed || s == .sending
        let held = f.reach == .held
        let attemptsLeft = f.attempts < p.retry.maxAttempts
        switch e {
        case .claimed: return s == .queued && (f.dueAt ?? .max) <= now ? .claimed : s
        case .requestWritten(let owner): return s == .claimed && f.claim?.owner == owner ? .sending : s
        // Marked written, never sent (the pass stopped first): back in the queue, if still its own.
        case .requestNotSent(let owner): return s == .sending && f.claim?.owner == owner ? .queued : s
        case .answered(let o, _, let takenBy, let owner):
            switch o.kind {
            case .accepted where takenBy == nil: return .accepted
            case .accepted, .duplicate: return f.reach != .none ? .accepted : .duplicate
            case .rejected:
                // A late rejection while another worker's request is out: that request decides.
                if held { return .accepted }
                return s == .sending && owner != nil && f.claim?.owner != owner ? s : .rejected
            case .accountError:
                // The account is wrong: the lead waits, uncounted — unless the answer is late.
                return s != .sending || (owner != nil && f.claim?.owner != owner) ? s : .queued
            case .failed where o.receipt == .notReceived:
                // A late answer to an earlier attempt moves nothing: another may be out.
                if s != .sending || (owner != nil && f.claim?.owner != owner) { return s }
                return attemptsLeft ? .queued : held ? .accepted : .parked
            case .failed: return held ? .accepted : p.dedupe && attemptsLeft ? .queued : .uncertain
            }
        case .interrupted:
            switch s {
            case .claimed: return .queued
            case .sending: return held ? .accepted : p.dedupe ? .queued : .uncertain
            default: return s
            }
        case .statusReported(let r):
            guard r.network == p.network else { return s }
            return [.accepted, .duplicate, .rejected].contains(s) || held ? s : .accepted
        case .resendRequested: return inFlight ? s : .queued
        case .settled(.accepted): return s == .uncertain ? .accepted : s
        case .settled(.notSent): return s == .uncertain ? .queued : s
        }
    }

    enum Verdict { case change, unchanged, refused }

    /// The status rules: a repeat changes nothing; a final status keeps its first word and never
    /// goes back to pending; approved → cancelled or trash only with chargebacks; anything
    /// else is taken.
    static func reported(_ current: LeadStatus?, _ next: LeadStatus, chargebacks: Bool) -> (status: LeadStatus?, verdict: Verdict) {
        guard let current else { return (next, .change) }
        if current.bucket == next.bucket {
            let sameWord = (current.raw ?? "").lowercased() == (next.raw ?? "").lowercased()
            if sameWord && current.detail == next.detail { return (current, .unchanged) }
            if current.bucket.isFinal && !sameWord { return (current, .unchanged) }
            return (next, .change)
        }
        if current.bucket.isFinal && next.bucket == .pending { return (current, .refused) }
        if current.bucket == .approved && (next.bucket == .cancelled || next.bucket == .trash) && !chargebacks { return (current, .refused) }
        return (next, .change)
    }

    /// The status bucket after an event that reports none (an answer, a settle).
    static func status(_ f: LeadFacts, _ e: LifecycleEvent, newState: SendState) -> Bucket? {
        let old = f.status?.bucket
        switch e {
        case .answered, .settled:
            if newState == .duplicate && f.state != .duplicate { return old == nil || old == .pending ? .trash : old }
            if newState == .accepted && f.state != .accepted { return old ?? .pending }
            return old
        default:
            return old
        }
    }
}

/// One lead's world beside the lifecycle: which requests were written, which may have reached
/// the network, and what the operator allowed. The promises are checked against it.
struct LeadWorld {
    var policy: LifecyclePolicy
    var facts: LeadFacts
    var now: Int64 = 0
    /// Requests written and not answered yet; `forgiven` ones were written before a resend or
    /// an operator's "not sent", which allow one more lead at the network.
    var inFlight: [(id: Int, owner: String, forgiven: Bool)] = []
    var nextRequest = 1
    /// A finished request that was not forgiven may have reached the network.
    var mayHaveArrived = false
    /// The network may hold the lead (whatever was forgiven): only then does it report on it.
    var networkMayHold = false
    var log: [String] = []

    init(policy: LifecyclePolicy) {
        self.policy = policy
        facts = LeadLifecycle.queued(at: 0).facts
    }

    /// Half the walks start where a worker's request is still out though its claim was given
    /// up (its answer comes late, in whatever state the lead is by then): a lead queued again
    /// by the operator, or one that already ended in any state that sends nothing.
    mutating func startWithALateRequest(_ g: inout SplitMix) {
        let state = [SendState.queued, .uncertain, .accepted, .duplicate, .rejected, .parked].randomElement(using: &g) ?? .uncertain
        switch state {
        case .queued: facts = LeadFacts(state: .queued, attempts: 0, dueAt: 0, updatedAt: 0)
        case .accepted: facts = LeadFacts(state: .accepted, reach: .held, status: LeadStatus(bucket: .pending, raw: "w1"), attempts: 1, updatedAt: 0)
        case .duplicate: facts = LeadFacts(state: .duplicate, status: LeadStatus(bucket: .trash, raw: "duplicate", detail: "duplicate"), attempts: 1, updatedAt: 0)
        case .uncertain: facts = LeadFacts(state: .uncertain, reach: .maybe, attempts: 1, updatedAt: 0)
        default: facts = LeadFacts(state: state, attempts: policy.retry.maxAttempts, updatedAt: 0)
        }
        // Queued again by the operator's word: what was out before is forgiven.
        inFlight = [(0, "w0", state == .queued)]
        networkMayHold = true
    }

    mutating func randomEvent(_ g: inout SplitMix) -> (LifecycleEvent, answering: Int?) {
        now += Int64.random(in: 0...240, using: &g)
        let roll = Int.random(in: 0..<100, using: &g)
        switch roll {
        case 0..<16:
            // A worker never holds two requests of one lead: the owner is one without a request out.
            let free = ["w1", "w2", "w3", "w4"].filter { w in !inFlight.contains { $0.owner == w } }
            return (.claimed(Claim(owner: free.randomElement(using: &g) ?? "w5", until: now + 60)), nil)
        case 16..<28:
            let owner = Int.random(in: 0..<5, using: &g) == 0 ? "w9" : (facts.claim?.owner ?? "w1")
            return (.requestWritten(owner: owner), nil)
        case 28..<32:
            // A worker that marked a request written and did not send it says so: usually the
            // latest request's worker, sometimes one without a request out. The world drops that
            // request: it never went out, whatever the lifecycle makes of the word.
            let owner = Int.random(in: 0..<4, using: &g) == 0 ? (["w1", "w9"].randomElement(using: &g) ?? "w9") : (inFlight.last?.owner ?? facts.claim?.owner ?? "w1")
            return (.requestNotSent(owner: owner), inFlight.last(where: { $0.owner == owner })?.id)
        case 32..<54 where !inFlight.isEmpty && (facts.state == .sending || Int.random(in: 0..<3, using: &g) == 0):
            // Usually the current request's answer; sometimes a late answer to an older one
            // (its worker's lease ran out), in whatever state the lead is by then.
            let index = Int.random(in: 0..<2, using: &g) == 0 ? Int.random(in: 0..<inFlight.count, using: &g) : inFlight.count - 1
            let outcomes: [SendOutcome] = [
                SendOutcome(kind: .accepted, externalId: "x\(Int.random(in: 1...3, using: &g))"),
                SendOutcome(kind: .duplicate, message: "duplicate"),
                SendOutcome(kind: .rejected, message: "bad phone", httpStatus: 400),
                SendOutcome(kind: .failed, message: "HTTP 503", retryAfter: Bool.random(using: &g) ? 30 : nil, httpStatus: 503, receipt: .notReceived),
                SendOutcome(kind: .failed, message: "connection refused", receipt: .notReceived),
                SendOutcome(kind: .failed, message: "timeout after the request was written", receipt: .maybeReceived),
                SendOutcome(kind: .failed, message: "HTTP 502", httpStatus: 502, receipt: .maybeReceived),
                SendOutcome(kind: .accountError, message: "wrong API key", httpStatus: 401),
            ]
            let outcome = outcomes.randomElement(using: &g) ?? outcomes[0]
            let taken = outcome.kind == .accepted && Int.random(in: 0..<10, using: &g) == 0 ? "OTHER-ORDER" : nil
            return (.answered(outcome, durationMs: Int.random(in: 1...5000, using: &g), externalIdTakenBy: taken, owner: inFlight[index].owner), inFlight[index].id)
        case 32..<62: return (.interrupted, nil)
        case 62..<76:
            // The network reports only on a lead it may hold; a status for another network's
            // lead can come any time.
            let own = networkMayHold && Int.random(in: 0..<6, using: &g) != 0
            let bucket = Bucket.allCases.randomElement(using: &g) ?? .pending
            let status = LeadStatus(bucket: bucket, raw: ["w1", "w2"].randomElement(using: &g), detail: Bool.random(using: &g) ? nil : "d")
            let source = [EventSource.poll, .postback, .import, .operator].randomElement(using: &g) ?? .poll
            return (.statusReported(StatusReport(status: status, source: source, network: own ? policy.network : "elsewhere", payout: "5")), nil)
        case 76..<86: return (.resendRequested, nil)
        case 86..<93: return (.settled(networkMayHold ? .accepted : .notSent), nil)
        default: return (.settled(SettleAs.allCases.randomElement(using: &g) ?? .accepted), nil)
        }
    }

    /// Applies one event and returns every broken promise.
    mutating func step(_ event: LifecycleEvent, answering: Int?, random: Double, table: [LifecycleTransition], rules: [StatusRule]) -> [String] {
        let old = facts
        let d = LeadLifecycle.decide(old, event, policy: policy, now: now, random: random, table: table, rules: rules)
        let new = d.facts
        var broken: [String] = []
        func fail(_ why: String) { broken.append("\(old.state.rawValue)/\(old.status?.bucket.rawValue ?? "-")/\(old.reach.rawValue)/\(old.attempts) + \(event.kind.rawValue) → \(new.state.rawValue)/\(new.status?.bucket.rawValue ?? "-"): \(why)") }

        // The reference model.
        let expected = ReferenceLifecycle.state(old, event, policy, now: now)
        if new.state != expected { fail("state \(new.state.rawValue), the reference says \(expected.rawValue)") }
        if d.transition == nil { fail("no row of the table decided") }
        if case .statusReported(let r) = event, r.network == policy.network {
            let (status, verdict) = ReferenceLifecycle.reported(old.status, r.status, chargebacks: policy.chargebacks)
            if new.status != status { fail("status \(String(describing: new.status)), the reference says \(String(describing: status))") }
            let refused = d.refusal != nil
            let confirmed = d.fact == .row(.confirmed)
            if expected == old.state {
                if (verdict == .unchanged) != confirmed || (verdict == .refused) != refused { fail("the fact is \(d.fact), the rules say \(verdict)") }
            } else if refused || confirmed { fail("a move recorded as \(d.fact)") }
        } else if case .statusReported = event {
            if d.refusal == nil { fail("a status for another network's lead was not refused") }
        } else {
            let expectedStatus = ReferenceLifecycle.status(old, event, newState: expected)
            if new.status?.bucket != expectedStatus { fail("status \(new.status?.bucket.rawValue ?? "none"), the reference says \(expectedStatus?.rawValue ?? "none")") }
        }

        // Never sent twice by itself.
        if d.effects.contains(.send) {
            let outstanding = inFlight.contains { !$0.forgiven }
            if (mayHaveArrived || outstanding) && !policy.dedupe {
                fail("a second request while an earlier one may have reached the network (no resend, no settle, no dedupe)")
            }
            if case .requestWritten(let owner) = event { inFlight.append((nextRequest, owner, false)) }
            nextRequest += 1
            networkMayHold = true
        }
        // Never backwards.
        if let was = old.status?.bucket {
            if new.status == nil { fail("the status vanished") }
            if was.isFinal && new.status?.bucket == .pending { fail("final \(was.rawValue) went back to pending") }
            if was == .approved, let now = new.status?.bucket, now == .cancelled || now == .trash, !policy.chargebacks {
                fail("approved → \(now.rawValue) at a network without chargebacks")
            }
        }
        // A lead the network acknowledged is never demoted.
        if new.reach == .held && ![.accepted, .queued, .claimed, .sending].contains(new.state) { fail("a held lead became \(new.state.rawValue)") }
        var resend = false
        if case .resendRequested = event { resend = true }
        if old.state == .accepted && new.state != .accepted && !resend { fail("accepted left by \(event.kind.rawValue)") }
        // Exactly one ledger fact, and it says what happened.
        switch d.fact {
        case .journal(let e):
            if e.fromState != old.state || e.toState != new.state { fail("journal says \(e.fromState?.rawValue ?? "-") → \(e.toState?.rawValue ?? "-")") }
            if e.kind == .refused {
                if new.state != old.state || new.status != old.status || !d.effects.isEmpty || e.reason == nil || e.note != nil { fail("a refusal changed something or has no reason") }
            }
            if case .answered = event, e.attempt == nil { fail("an answer without its attempt") }
        case .row(.claimed): if new.state != .claimed || old.state == .claimed { fail("claimed fact without a claim") }
        case .row(.requestWritten): if new.state != .sending || !d.effects.contains(.send) { fail("request-written fact without a send") }
        case .row(.confirmed): if new.state != old.state || new.status?.bucket != old.status?.bucket { fail("a confirmation moved the lead") }
        }
        if (d.statusChange != nil) != (old.status?.bucket != new.status?.bucket) { fail("a status change without its effect, or the reverse") }
        if d.statusChange != nil && !d.effects.contains(where: { if case .queueOutgoing = $0 { return true }; return false }) { fail("no outgoing postbacks") }
        // Bookkeeping.
        if (new.dueAt != nil) != (new.state == .queued) { fail("due time \(String(describing: new.dueAt)) in \(new.state.rawValue)") }
        if (new.claim != nil) != (new.state == .claimed || new.state == .sending) { fail("claim in \(new.state.rawValue)") }

        // The world moves on.
        if let id = answering, let i = inFlight.firstIndex(where: { $0.id == id }) {
            let request = inFlight.remove(at: i)
            if case .answered(let o, _, _, _) = event, !(o.kind == .failed && o.receipt == .notReceived) && o.kind != .accountError {
                networkMayHold = true
                if !request.forgiven { mayHaveArrived = true }
            }
        }
        if d.refusal == nil {
            switch event {
            case .resendRequested, .settled(.notSent):
                // One more lead at the network is allowed: what went before is forgiven.
                mayHaveArrived = false
                inFlight = inFlight.map { ($0.id, $0.owner, true) }
                if case .settled = event { networkMayHold = !inFlight.isEmpty }
            default: break
            }
        }
        facts = new
        log.append("\(event.kind.rawValue) → \(new.state.rawValue)")
        return broken
    }

    /// A random policy and `steps` random events; the first broken promise, if any.
    static func run(seed: UInt64, steps: Int, table: [LifecycleTransition] = LeadLifecycle.transitions,
                    rules: [StatusRule] = LeadLifecycle.statusRules) -> (broken: String?, visited: Set<String>) {
        var g = SplitMix(seed: seed)
        let policy = LifecyclePolicy(network: "kma", chargebacks: Bool.random(using: &g), dedupe: Int.random(in: 0..<4, using: &g) == 0,
                                     retry: RetryPolicy(maxAttempts: Int.random(in: 1...4, using: &g), baseDelay: 10, maxDelay: 160))
        var world = LeadWorld(policy: policy)
        if Bool.random(using: &g) { world.startWithALateRequest(&g) }
        var visited = Set<String>()
        for _ in 0..<steps {
            let (event, answering) = world.randomEvent(&g)
            let before = world.facts.state
            let broken = world.step(event, answering: answering, random: Double.random(in: 0..<1, using: &g), table: table, rules: rules)
            visited.insert("\(before.rawValue) + \(event.kind.rawValue)")
            if let first = broken.first {
                return ("seed \(seed) (chargebacks \(policy.chargebacks), dedupe \(policy.dedupe), attempts \(policy.retry.maxAttempts)): \(first)\n  after: "
                        + world.log.suffix(12).joined(separator: "; "), visited)
            }
        }
        return (nil, visited)
    }
}

/// Thousands of random event sequences through the lifecycle, checked after every step
/// against a plain reference model and the promises: no second request unless the earlier
/// ones certainly did not arrive, a resend or settle allowed it, or the network refuses
/// repeats; a final status never returns to pending; approved → cancelled/trash only with
/// chargebacks; an acknowledged lead is never demoted; every event leaves one fact.
@Suite struct LifecycleModelTests {
    static let sequences = 2000
    static let steps = 80

    @Test func randomSequencesKeepEveryPromise() {
        var visited = Set<String>()
        var failures: [String] = []
        for seed in 1...UInt64(Self.sequences) {
            let (broken, seen) = LeadWorld.run(seed: seed, steps: Self.steps)
            visited.formUnion(seen)
            if let broken { failures.append(broken) }
            if failures.count >= 3 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // The walk is not vacuous: it reaches every state with every event.
        let missing = SendState.allCases.flatMap { s in LifecycleEventKind.allCases.map { "\(s.rawValue) + \($0.rawValue)" } }.filter { !visited.contains($0) }
        #expect(missing.isEmpty, "never tried: \(missing.joined(separator: ", "))")
    }

    /// Every row of both tables is load-bearing: with any one row removed, the random walk
    /// finds a broken promise or a difference from the reference (rows it cannot tell from
    /// their neighbours are listed in `equivalent`, with the reason).
    @Test func removingAnyRowIsCaught() {
        var survivors: [String] = []
        for i in LeadLifecycle.transitions.indices {
            var table = LeadLifecycle.transitions
            let row = table.remove(at: i)
            if !Self.caught(table: table, rules: LeadLifecycle.statusRules) {
                survivors.append("transition \(i + 1): \(row.from.map(\.rawValue).joined(separator: ",")) + \(row.on.rawValue) [\(row.when.rawValue)] → \(row.to.text)")
            }
        }
        for i in LeadLifecycle.statusRules.indices {
            var rules = LeadLifecycle.statusRules
            let rule = rules.remove(at: i)
            if !Self.caught(table: LeadLifecycle.transitions, rules: rules) {
                survivors.append("status rule \(i + 1): \(rule.from.rawValue) → \(rule.to.rawValue) [\(rule.when.rawValue)] \(rule.result.rawValue)")
            }
        }
        #expect(survivors == Self.equivalent, "rows whose removal nothing notices:\n\(survivors.joined(separator: "\n"))")
    }

    /// Rows whose removal changes only a journal note, never a state, status or effect: a
    /// duplicate answer to a lead the network holds is decided by the next row (an earlier
    /// attempt reached it) the same way, its note aside.
    /// And a lead's first status is taken by the last status rule (any → another bucket) as
    /// well as by the first.
    static let equivalent = ["transition 8: queued,claimed,sending,accepted,duplicate,rejected,uncertain,parked + answered duplicate [network holds it] → accepted",
                             "status rule 1: — → any [] change"]

    static func caught(table: [LifecycleTransition], rules: [StatusRule]) -> Bool {
        for seed in 1...UInt64(sequences / 2) where LeadWorld.run(seed: seed, steps: steps, table: table, rules: rules).broken != nil { return true }
        return false
    }

    /// The checker is not blind to what it guards: a lifecycle that resends an uncertain lead
    /// by itself is caught as a second request.
    @Test func aResendingLifecycleIsCaught() {
        var world = LeadWorld(policy: LifecyclePolicy(network: "kma", retry: RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 160)))
        let steps: [(LifecycleEvent, Int?)] = [(.claimed(Claim(owner: "w1", until: 60)), nil), (.requestWritten(owner: "w1"), nil),
                                                (.answered(SendOutcome(kind: .failed, message: "timeout", receipt: .maybeReceived)), 1)]
        for (e, a) in steps { #expect(world.step(e, answering: a, random: 0.5, table: LeadLifecycle.transitions, rules: LeadLifecycle.statusRules).isEmpty) }
        #expect(world.facts.state == .uncertain)
        // Pretend the lifecycle had queued it instead.
        world.facts = LeadFacts(state: .queued, reach: .maybe, attempts: 1, dueAt: 0, updatedAt: 0)
        #expect(world.step(.claimed(Claim(owner: "w1", until: 60)), answering: nil, random: 0.5, table: LeadLifecycle.transitions, rules: LeadLifecycle.statusRules).isEmpty)
        let broken = world.step(.requestWritten(owner: "w1"), answering: nil, random: 0.5, table: LeadLifecycle.transitions, rules: LeadLifecycle.statusRules)
        #expect(broken.contains { $0.contains("a second request") }, "\(broken)")
    }
}

