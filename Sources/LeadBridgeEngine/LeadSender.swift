import Foundation
import LeadBridgeCore
import LeadBridgeNet

/// One try at sending a lead: what came back and the (redacted) requests made.
public struct SendAttempt: Sendable {
    public var number: Int
    public var outcome: SendOutcome
    public var requests: [HTTPRequestValue]
}

/// The end of a send with every attempt.
public struct SendReport: Sendable {
    public var outcome: SendOutcome
    public var attempts: [SendAttempt]
}

/// Sends one lead: runs the spec's `SendPlan` over the transport, retrying `failed` outcomes
/// with backoff (honouring `Retry-After`). Duplicate, rejected and accepted are final.
public struct LeadSender: Sendable {
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let sleeper: any Sleeper
    let random: @Sendable () -> Double
    let clock: @Sendable () -> Int64

    public init(transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(), sleeper: any Sleeper = TaskSleeper(),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.transport = transport
        self.retry = retry
        self.sleeper = sleeper
        self.random = random
        self.clock = clock
    }

    public func send(spec: NetworkSpec, lead: Lead, account: AccountValues, gate: RequestGate? = nil,
                     timeout override: Double? = nil) async throws(SendPreparationError) -> SendReport {
        var attempts: [SendAttempt] = []
        let timeout = override ?? spec.send?.timeout ?? 20
        for number in 1...max(1, retry.maxAttempts) {
            var plan = try SendPlan(spec: spec, lead: lead, account: account, now: clock())
            var sent: [HTTPRequestValue] = []
            while let built = try plan.nextRequest() {
                if let shown = try? plan.redactedRequest() { sent.append(shown.request) }
                if let gate { await gate.acquire() }
                do {
                    let response = try await transport.send(built.request, timeout: timeout)
                    if let gate { await gate.release() }
                    plan.handle(response)
                } catch {
                    if let gate { await gate.release() }
                    plan.fail(error.description)
                }
            }
            let outcome = plan.outcome ?? SendOutcome(kind: .failed, message: "no outcome")
            attempts.append(SendAttempt(number: number, outcome: outcome, requests: sent))
            guard outcome.kind == .failed, number < retry.maxAttempts else { break }
            await sleeper.sleep(seconds: retry.delay(afterAttempt: number, retryAfter: outcome.retryAfter, random: random()))
        }
        return SendReport(outcome: attempts.last?.outcome ?? SendOutcome(kind: .failed), attempts: attempts)
    }
}
