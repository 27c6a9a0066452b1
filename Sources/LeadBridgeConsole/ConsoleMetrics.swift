import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// HTTP answers of this `serve` process by route and status code (the router tells it).
final class RequestCounter: Sendable {
    private struct Key: Hashable, Sendable {
        var route: String
        var status: Int
    }
    private let counts = Mutex<[Key: Int]>([:])

    func count(route: String, status: Int) {
        counts.withLock { $0[Key(route: route, status: status), default: 0] += 1 }
    }

    var samples: [MetricFamily.Sample] {
        counts.withLock { $0 }.sorted { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }.map {
            MetricFamily.Sample([.init("route", $0.key.route), .init("code", String($0.key.status))], Double($0.value))
        }
    }
}

extension OperatorConsole {
    /// `/metrics`: this process's HTTP answers, and what the ledger holds — postbacks by result,
    /// send attempts by outcome, sync passes, the outbox, uncertain leads, outgoing postbacks.
    func metrics() -> HTTPServerResponse {
        do throws(StoreError) {
            let text = PrometheusText.render(try families(now: clock()))
            return HTTPServerResponse(status: 200, headers: [HTTPHeader("Content-Type", PrometheusText.contentType), HTTPHeader("Cache-Control", "no-store")],
                                      body: Array(text.utf8))
        } catch {
            log(.metricsStore(detail: "\(error)"))
            return ConsoleResponse.text("store unavailable: \(error.message)\n", status: 503)
        }
    }

    func families(now: Int64) throws(StoreError) -> [MetricFamily] {
        let health = try HealthCheck.read(store: store, config: config, now: now)
        let passes = health.networks.compactMap(\.lastPass)
        func network(_ n: String) -> [MetricFamily.Label] { [.init("network", n)] }
        return [
            MetricFamily("leadbridge_http_requests_total", .counter, help: "HTTP requests answered by this serve process, by route and status code.", requests.samples),
            MetricFamily("leadbridge_postbacks_total", .counter, help: "Incoming postbacks stored in the ledger, by network and result.",
                         try store.postbackTallies().map { .init([.init("network", $0.network), .init("result", $0.result?.rawValue ?? "unknown")], Double($0.count)) }),
            MetricFamily("leadbridge_sends_total", .counter, help: "Send attempts recorded in the ledger, by outcome.",
                         try store.attemptTallies().map { .init([.init("outcome", $0.outcome?.rawValue ?? "unknown")], Double($0.count)) }),
            MetricFamily("leadbridge_sync_pass_duration_seconds", .gauge, help: "Duration of the latest sync pass, by network.",
                         passes.map { .init(network($0.network), Double($0.seconds)) }),
            MetricFamily("leadbridge_sync_pass_seconds_total", .counter, help: "Time spent in sync passes, by network (with leadbridge_sync_passes_total: the mean duration).",
                         passes.map { .init(network($0.network), Double($0.totalSeconds)) }),
            MetricFamily("leadbridge_sync_passes_total", .counter, help: "Sync passes, by network and outcome (ok or failed).",
                         passes.flatMap { p in [MetricFamily.Sample(network(p.network) + [.init("outcome", "ok")], Double(p.passes - p.failedPasses)),
                                                MetricFamily.Sample(network(p.network) + [.init("outcome", "failed")], Double(p.failedPasses))] }),
            MetricFamily("leadbridge_sync_last_pass_timestamp_seconds", .gauge, help: "When the latest sync pass of a network finished (Unix time).",
                         passes.map { .init(network($0.network), Double($0.finishedAt)) }),
            MetricFamily("leadbridge_sync_last_success_timestamp_seconds", .gauge, help: "When a network last had a sync pass without failure (Unix time).",
                         passes.compactMap { p in p.lastSuccessAt.map { .init(network(p.network), Double($0)) } }),
            MetricFamily("leadbridge_network_failing", .gauge, help: "1 when the latest sync pass of a network failed.",
                         health.networks.map { .init(network($0.network), $0.lastPass.map { $0.outcome == .ok ? 0 : 1 } ?? 0) }),
            MetricFamily("leadbridge_outbox_depth", .gauge, help: "Leads queued, claimed or being sent.", [.init([], Double(health.outbox.count))]),
            MetricFamily("leadbridge_outbox_overdue", .gauge, help: "Queued leads due longer ago than health.outbox_stuck_seconds.", [.init([], Double(health.overdue))]),
            MetricFamily("leadbridge_leads_uncertain", .gauge, help: "Leads that may have reached their network and wait to be settled.",
                         [.init([], Double(health.uncertain.count))]),
            MetricFamily("leadbridge_leads_parked", .gauge, help: "Leads given up after failing without reaching their network.", [.init([], Double(health.parked.count))]),
            MetricFamily("leadbridge_outgoing_postbacks_pending", .gauge, help: "Outgoing postbacks to traffic sources waiting for delivery.",
                         [.init([], Double(health.outgoingPending))]),
            MetricFamily("leadbridge_outgoing_postbacks_failed", .gauge, help: "Outgoing postbacks given up after their last attempt.",
                         [.init([], Double(health.outgoingFailed))]),
            MetricFamily("leadbridge_healthy", .gauge, help: "1 when leadbridge status would exit 0.", [.init([], health.healthy ? 1 : 0)]),
        ]
    }
}
