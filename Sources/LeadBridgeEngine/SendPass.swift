import LeadBridgeCore
import LeadBridgeStore
import Synchronization

/// One account's send pass as its workers share it: the leads, claimed a window at a time and
/// handed out one by one, and the tally of what came of them. A pass runs a fixed number of
/// worker tasks, each taking its next lead as soon as its own is done: no task is made per
/// lead, and no hop through a parent task sits between one lead's end and the next one's start.
///
/// An account error stops the pass: the leads claimed and not handed out go back to the queue,
/// and no worker gets another. A store error stops it too (the first is the pass's error).
// Sendable: every mutable field is inside the Mutex; the rest is immutable and Sendable.
final class SendPass: Sendable {
    struct State {
        var summary: SyncReport.NetworkSummary
        var uncertain: [LeadRecord] = []
        var changes: [StatusChange] = []
        var storeError: StoreError?
        var accountStopped = false
        /// Claimed and not yet handed out, the next one last.
        var window: [LeadRecord] = []
        /// How many more leads the pass may claim.
        var budget: Int
        var seen = Set<Int64>()
    }

    let ledger: Ledger
    let network: String
    let account: String
    let owner: String
    let lease: Int64
    let dueBy: Int64
    let claimWindow: Int
    let onChange: @Sendable (StatusChange) -> Void
    let state: Mutex<State>

    init(ledger: Ledger, network: String, account: String, owner: String, lease: Int64, dueBy: Int64, claimWindow: Int, budget: Int,
         summary: SyncReport.NetworkSummary, onChange: @escaping @Sendable (StatusChange) -> Void) {
        self.ledger = ledger
        self.network = network
        self.account = account
        self.owner = owner
        self.lease = lease
        self.dueBy = dueBy
        self.claimWindow = claimWindow
        self.onChange = onChange
        state = Mutex(State(summary: summary, budget: budget))
    }

    /// The next lead to send, claimed for this pass; nil when there is none (the budget is
    /// spent, nothing is due, or the pass stopped).
    func next() -> LeadRecord? {
        state.withLock { s -> LeadRecord? in
            if s.accountStopped {
                for lead in s.window {
                    do throws(StoreError) { _ = try ledger.release(rowId: lead.rowId, owner: owner) } catch { s.storeError = s.storeError ?? error }
                }
                s.window = []
                s.budget = 0
                return nil
            }
            while s.storeError == nil {
                if s.window.isEmpty {
                    guard s.budget > 0 else { return nil }
                    do throws(StoreError) {
                        s.window = try ledger.claim(network: network, limit: min(claimWindow, s.budget), owner: owner, lease: lease, dueBy: dueBy,
                                                    accounts: .only([account])).reversed()
                    } catch {
                        s.storeError = error
                        return nil
                    }
                    s.budget -= s.window.count
                    if s.window.isEmpty { s.budget = 0; return nil }
                }
                guard let lead = s.window.popLast() else { continue }
                // One seen twice is not sent twice in a pass: the claim is given back at once.
                if !s.seen.insert(lead.rowId).inserted {
                    do throws(StoreError) { _ = try ledger.release(rowId: lead.rowId, owner: owner) } catch { s.storeError = error }
                    s.budget = 0
                    continue
                }
                return lead
            }
            return nil
        }
    }

    /// Counts what came of a lead handed out by `next`.
    func record(_ lead: LeadRecord, _ result: Result<SentLead, StoreError>) {
        state.withLock { s in
            let sent: SentLead
            switch result {
            case .failure(let e): s.storeError = s.storeError ?? e; return
            case .success(let done): sent = done
            }
            if sent.passStopped {
                // Its turn came after an account error: it goes back to the queue unsent (one
                // marked written ahead of its turn went back already).
                if sent.requeued { return }
                do throws(StoreError) { _ = try ledger.release(rowId: lead.rowId, owner: owner) } catch { s.storeError = s.storeError ?? error }
                return
            }
            guard let update = sent.update, !sent.claimLost else { return }
            s.summary.sent += 1
            switch update.decision.transition?.on {
            case .answeredAccepted?: s.summary.accepted += 1
            case .answeredDuplicate?: s.summary.duplicate += 1
            case .answeredRejected?: s.summary.rejected += 1
            case .answeredAccountError?:
                s.summary.failed += 1
                if !s.accountStopped {
                    s.accountStopped = true
                    s.summary.problem = .accountRefused(account: update.record.account, message: update.record.lastError)
                }
            default: s.summary.failed += 1
            }
            if update.decision.effects.contains(where: { if case .park = $0 { return true }; return false }) { s.summary.parked += 1 }
            if update.record.sendState == .uncertain {
                s.uncertain.append(update.record)
                s.summary.uncertain += 1
            }
            if let change = update.change {
                s.changes.append(change)
                s.summary.changes += 1
                onChange(change)
            }
        }
    }
}
