import Glibc

/// Child processes started by tests (the scratch PostgreSQL server, the headless browser)
/// must inherit none of the test process's descriptors: tests run in parallel, and a copy of
/// another test's socket held by a long-lived child keeps that socket open, so a server's
/// reset or close never reaches its client.
public enum SpawnActions {
    /// Adds "close every descriptor from `lowest` up" to `actions` (glibc ≥ 2.34 has the
    /// action; Swift's Glibc module does not export it, so it is looked up). False when missing.
    public static func closeInherited(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, from lowest: Int32) -> Bool {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return false }
        return unsafeBitCast(symbol, to: CloseFrom.self)(actions, lowest) == 0
    }
}
