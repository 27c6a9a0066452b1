import FoundationEssentials
import Glibc
import LeadBridgeCLI

// A closed pipe must not kill the process (SIGPIPE); writes then fail with EPIPE instead.
signal(SIGPIPE, SIG_IGN)
let code = await LeadBridgeCommand.run(Array(CommandLine.arguments.dropFirst()), env: .current())
exit(code)
