import FoundationEssentials
import Glibc
import LeadBridgeCLI

// A closed pipe must not kill the process (SIGPIPE); writes then fail with EPIPE instead.
signal(SIGPIPE, SIG_IGN)
switch LeadBridgeCommand.prepare(Array(CommandLine.arguments.dropFirst()), env: .current()) {
case .finished(let code):
    exit(code)
case .ready(let invocation):
    // A catalog command runs right here: no worker thread, no executor hop.
    if let code = invocation.runWithoutTasks() { exit(code) }
    exit(await invocation.run())
}
