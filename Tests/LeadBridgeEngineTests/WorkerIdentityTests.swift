import Foundation
import Glibc
import Testing
@testable import LeadBridgeEngine

/// A claim's owner is looked up by pid only where that pid means the same process: the same
/// host name, kernel boot and PID namespace. Two machines (or containers) sharing a host name
/// must not take each other's live workers for dead.
@Suite struct WorkerIdentityTests {
    @Test func theIdentityNamesHostPidStartAndMachine() throws {
        let parts = Worker.identity.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 4)
        #expect(parts[0] == Worker.host)
        #expect(parts[1] == String(getpid()))
        #expect(!parts[3].isEmpty, "this Linux has /proc/sys/kernel/random/boot_id and /proc/self/ns/pid")
        #expect(Worker.isAlive(Worker.identity) == true)
    }

    @Test func theMachineKeyIsTheBootAndThePidNamespace() {
        #expect(Worker.machineKey(bootId: "3f1c2a9e-77b1-4c0e-9d2a-5b6c7d8e9f00", pidNamespace: "pid:[4026531836]") == "3f1c2a9e77b1-4026531836")
        #expect(Worker.machineKey(bootId: nil, pidNamespace: "pid:[4026531836]") == "")
        #expect(Worker.machineKey(bootId: "3f1c2a9e-77b1", pidNamespace: nil) == "")
    }

    @Test func onlyAnOwnerOfThisMachineIsLookedUpByPid() {
        let here = Worker.machine
        // A dead pid of this machine: known dead.
        var dead: pid_t = 0
        for candidate in stride(from: pid_t(4_000_000), to: 3_000_000, by: -7919) where kill(candidate, 0) != 0 && errno == ESRCH { dead = candidate; break }
        #expect(dead != 0)
        #expect(Worker.isAlive("\(Worker.host)/\(dead)/1/\(here)") == false)
        // The same host name and pid on another machine or in another container: not ours to judge.
        #expect(Worker.isAlive("\(Worker.host)/\(dead)/1/0123456789ab-4026531836") == nil || here == "0123456789ab-4026531836")
        #expect(Worker.localPid("\(Worker.host)/\(dead)/1/other-1", host: Worker.host, machine: here) == nil)
        // An owner written by an older version (host/pid/start): its lease decides.
        #expect(Worker.isAlive("\(Worker.host)/\(dead)/1") == nil)
        // Another host name.
        #expect(Worker.isAlive("elsewhere.example/\(dead)/1/\(here)") == nil)
        // Without a machine key of our own nothing is looked up.
        #expect(Worker.localPid("\(Worker.host)/\(dead)/1/", host: Worker.host, machine: "") == nil)
    }
}
