import Foundation
import Testing
@testable import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// The Prometheus text of `/metrics`, parsed the way a scraper reads it, against the seeded
/// ledger; and who may read it.
@Suite(.serialized) struct MetricsTests {
    /// One sample line: `name{a="x",b="y"} value`.
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible { var description: String }

    /// Parses the exposition format strictly: every family has HELP and TYPE before its
    /// samples, every sample line has a name, well-formed labels and a number.
    static func parse(_ text: String) throws -> [Sample] {
        var samples: [Sample] = []
        var typed = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge"].contains(parts[3]) else { throw ParseError(description: "bad TYPE line: \(line)") }
                typed.insert(String(parts[2]))
                continue
            }
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            guard !name.isEmpty, typed.contains(name) else { throw ParseError(description: "sample without a TYPE: \(line)") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let key = String(rest.prefix { $0 != "=" })
                    rest = rest.dropFirst(key.count)
                    guard rest.hasPrefix("=\"") else { throw ParseError(description: "bad label in \(line)") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let c = rest.first, c != "\"" {
                        rest = rest.dropFirst()
                        if c == "\\", let n = rest.first { value.append(n == "n" ? "\n" : n); rest = rest.dropFirst() } else { value.append(c) }
                    }
                    guard rest.first == "\"" else { throw ParseError(description: "unterminated label in \(line)") }
                    rest = rest.dropFirst()
                    labels[key] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                    guard !rest.isEmpty else { throw ParseError(description: "unterminated labels in \(line)") }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " ", let value = Double(rest.dropFirst()) else { throw ParseError(description: "bad value in \(line)") }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        return samples
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    @Test func theLedgerAndTheRequestsAsPrometheusText() async throws {
        try await ConsoleServerTests.running { server, seed in
            let d0 = LedgerSeed.day0
            try seed.lead("M1", "kma", account: "kma-main", at: d0, .accepted(.approved, payout: "3", currency: "USD"))
            try seed.lead("M2", "kma", account: "kma-main", at: d0 + 1, .uncertain)
            try seed.lead("M3", "kma", account: "kma-main", at: d0 + 2, .queued)
            try seed.lead("M4", "kma", account: "kma-main", at: d0 + 3, .rejected)
            try seed.store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: d0, finishedAt: d0 + 7, outcome: .ok, sent: 3)])
            try seed.store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: d0 + 60, finishedAt: d0 + 65, outcome: .failed, error: "poll: HTTP 500")])
            let c = ConsoleClient(port: server.port)
            // Postbacks through the receiver: one applied, one with an unknown word, one with a wrong token.
            let base = "/postback/kma?token=\(ConsoleServer.receiverToken)"
            #expect(try await c.request("GET", base + "&oid=M1&status=accepted").status == 200)
            #expect(try await c.request("GET", base + "&oid=M1&status=zzqqx").status == 200)
            #expect(try await c.request("GET", "/postback/kma?token=wrong&oid=M1&status=approved").status == 403)

            let denied = try await c.request("GET", "/metrics")
            #expect(denied.status == 401) // loopback gets no exception
            #expect(denied.header("WWW-Authenticate") != nil)
            #expect(try await c.request("GET", "/metrics", headers: [HTTPHeader("Authorization", "Bearer wrong-token-value")]).status == 401)
            let r = try await c.request("GET", "/metrics", headers: [HTTPHeader("Authorization", "Bearer \(ConsoleServer.consoleToken)")])
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == PrometheusText.contentType)
            let m = try Self.parse(r.text)

            #expect(Self.value(m, "leadbridge_postbacks_total", ["network": "kma", "result": "applied"]) == 1)
            #expect(Self.value(m, "leadbridge_postbacks_total", ["network": "kma", "result": "unknown-status"]) == 1)
            #expect(Self.value(m, "leadbridge_postbacks_total", ["network": "kma", "result": "forbidden"]) == 1)
            #expect(Self.value(m, "leadbridge_sends_total", ["outcome": "accepted"]) == 1)
            #expect(Self.value(m, "leadbridge_sends_total", ["outcome": "rejected"]) == 1)
            #expect(Self.value(m, "leadbridge_sends_total", ["outcome": "failed"]) == 1)
            #expect(Self.value(m, "leadbridge_outbox_depth") == 1)
            #expect(Self.value(m, "leadbridge_leads_uncertain") == 1)
            #expect(Self.value(m, "leadbridge_outgoing_postbacks_pending") == 0)
            #expect(Self.value(m, "leadbridge_sync_pass_duration_seconds", ["network": "kma"]) == 5)
            #expect(Self.value(m, "leadbridge_sync_pass_seconds_total", ["network": "kma"]) == 12)
            #expect(Self.value(m, "leadbridge_sync_passes_total", ["network": "kma", "outcome": "ok"]) == 1)
            #expect(Self.value(m, "leadbridge_sync_passes_total", ["network": "kma", "outcome": "failed"]) == 1)
            #expect(Self.value(m, "leadbridge_sync_last_success_timestamp_seconds", ["network": "kma"]) == Double(d0 + 7))
            #expect(Self.value(m, "leadbridge_network_failing", ["network": "kma"]) == 1)
            #expect(Self.value(m, "leadbridge_healthy") == 0)
            // This process's answers by route and code: the three postbacks, the two refusals.
            #expect(Self.value(m, "leadbridge_http_requests_total", ["route": "/postback/*", "code": "200"]) == 2)
            #expect(Self.value(m, "leadbridge_http_requests_total", ["route": "/postback/*", "code": "403"]) == 1)
            #expect(Self.value(m, "leadbridge_http_requests_total", ["route": "/metrics", "code": "401"]) == 2)
        }
    }

    @Test func anAllowedAddressReadsWithoutTheToken() async throws {
        try await ConsoleServerTests.running(ConsoleServer.configText(console: #"{"token": "${CONSOLE_TOKEN}", "metrics_allow": ["127.0.0.0/8"]}"#)) { server, _ in
            let r = try await ConsoleClient(port: server.port).request("GET", "/metrics")
            #expect(r.status == 200)
            #expect(try Self.parse(r.text).contains { $0.name == "leadbridge_healthy" })
        }
    }

    @Test func labelValuesAreEscaped() throws {
        let text = PrometheusText.render([MetricFamily("x_total", .counter, help: "a\nb", [.init([.init("k", "a\"b\\c\nd")], 2)])])
        #expect(text == "# HELP x_total a\\nb\n# TYPE x_total counter\nx_total{k=\"a\\\"b\\\\c\\nd\"} 2\n")
        #expect(try Self.parse(text) == [Sample(name: "x_total", labels: ["k": "a\"b\\c\nd"], value: 2)])
    }
}
