import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A real PostgreSQL server for tests, started from Debian's `postgresql` package by
/// `tools/pg-scratch.sh` (initdb into a temporary folder, run as `nobody` when the tests run
/// as root, a unix socket in that folder plus a free loopback port). A watchdog removes it
/// once the test process is gone, even after a crash; `destroy()` removes it at once.
/// No mock: a test that needs PostgreSQL fails (never skips) when the server cannot start.
public final class PostgresScratchServer: Sendable {
    /// The folder holding the data, the socket and the logs.
    public let directory: String
    /// `postgresql://leadbridge@/postgres?host=DIR&port=P` (trusted unix socket).
    public let socketURL: String
    /// `postgresql://leadbridge:PASSWORD@127.0.0.1:P/postgres` (password over TCP).
    public let tcpURL: String
    public let password: String
    public let port: Int
    private let counter = Mutex(0)

    /// Why a server could not be had.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private static let sharedServer = Mutex<Result<PostgresScratchServer, Failure>?>(nil)

    /// One server for the whole test process, started on first use.
    public static func shared() throws(Failure) -> PostgresScratchServer {
        let result = sharedServer.withLock { slot in
            if let slot { return slot }
            let made: Result<PostgresScratchServer, Failure>
            do throws(Failure) { made = .success(try PostgresScratchServer()) } catch { made = .failure(error) }
            slot = made
            return made
        }
        return try result.get()
    }

    /// A server of one's own (for tests that stop and restart it).
    public init() throws(Failure) {
        let out = try Self.script(["start", String(ProcessInfo.processInfo.processIdentifier)])
        let lines = out.split(separator: "\n").map(String.init)
        guard lines.count >= 3, let portText = try? String(contentsOfFile: lines[0] + "/port", encoding: .utf8),
              let port = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)),
              let password = try? String(contentsOfFile: lines[0] + "/password", encoding: .utf8) else {
            throw Failure(description: "tools/pg-scratch.sh start printed: \(out)")
        }
        directory = lines[0]
        socketURL = lines[1]
        tcpURL = lines[2]
        self.port = port
        self.password = password.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new empty database; returns its unix-socket URL and its TCP URL (with password).
    public func freshDatabase(_ label: String = "t") throws(Failure) -> (socket: String, tcp: String, name: String) {
        let n = counter.withLock { c in c += 1; return c }
        let name = "\(label)_\(ProcessInfo.processInfo.processIdentifier)_\(n)".lowercased()
        _ = try Self.script(["createdb", directory, name])
        return (socketURL.replacingOccurrences(of: "/postgres?", with: "/\(name)?"),
                tcpURL.replacingOccurrences(of: "/postgres", with: "/\(name)"), name)
    }

    /// Stops the server (a fast shutdown: sessions are ended, nothing committed is lost).
    public func stop() throws(Failure) { _ = try Self.script(["stop", directory]) }
    /// Starts it again on the same folder, socket and port.
    public func restart() throws(Failure) { _ = try Self.script(["restart", directory]) }
    /// Stops it at once and removes its folder.
    public func destroy() { _ = try? Self.script(["destroy", directory]) }

    /// Runs the script with posix_spawn and waitpid (Foundation's `Process.waitUntilExit`
    /// can hang when the cooperative pool is busy); stdout and stderr go to temporary files.
    @discardableResult
    static func script(_ arguments: [String]) throws(Failure) -> String {
        let base = NSTemporaryDirectory() + "pg-scratch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The server lives for the whole run: it must not keep other tests' sockets open.
        guard SpawnActions.closeInherited(&actions, from: 3) else {
            throw Failure(description: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or newer is needed)")
        }
        let argv = (["/bin/bash", PackageFixtures.root + "/tools/pg-scratch.sh"] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
        guard rc == 0 else { throw Failure(description: "cannot run tools/pg-scratch.sh: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw Failure(description: "tools/pg-scratch.sh \(arguments.first ?? "") failed (wait status \(status)): \(errors)")
        }
        return output
    }
}
