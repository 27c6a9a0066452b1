import LeadBridgeCore

/// Runs every spec's examples for `lint`: an example that does not hold is an error at the
/// example's location.
enum SpecExampleChecks {
    static func run(_ lib: SpecLibrary) -> [Diagnostic] {
        lib.specs.flatMap { spec in
            ExampleRunner.runAll(spec, defaults: lib.defaults).filter { !$0.passed }.map { r in
                spec.sourceMap.diagnostic(at: r.pointer, .exampleFails(name: r.name, differences: r.differences))
            }
        }
    }
}
