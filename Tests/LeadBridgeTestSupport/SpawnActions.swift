import Foundation
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

/// A command run to its end by a test: its exit status (128 + the signal when one killed it)
/// and what it wrote.
public struct SpawnResult: Sendable {
    public var status: Int32
    public var out: String
    public var err: String
}

extension SpawnActions {
    /// Runs `argv` to its end with posix_spawn and waitpid (Foundation's `Process.waitUntilExit`
    /// can hang when the cooperative pool is busy): standard input from /dev/null, standard
    /// output and error through temporary files, none of the test process's descriptors
    /// inherited. `environment` nil: this process's own.
    public static func run(_ argv: [String], environment: [String]? = nil) -> SpawnResult {
        let base = NSTemporaryDirectory() + "spawn-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard closeInherited(&actions, from: 3) else {
            return SpawnResult(status: -1, out: "", err: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or newer is needed)")
        }
        let args = argv.map { strdup($0) } + [nil]
        defer { for a in args { free(a) } }
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for e in envp ?? [] { free(e) } }
        var pid: pid_t = 0
        let rc = envp.map { e in posix_spawn(&pid, argv[0], &actions, nil, args, e) } ?? posix_spawn(&pid, argv[0], &actions, nil, args, environ)
        guard rc == 0 else { return SpawnResult(status: -1, out: "", err: "cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return SpawnResult(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
                           out: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                           err: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }
}
