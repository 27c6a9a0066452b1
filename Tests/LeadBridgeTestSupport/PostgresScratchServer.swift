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

    /// Runs the script to its end (`SpawnActions.run`: posix_spawn and waitpid, nothing inherited).
    @discardableResult
    static func script(_ arguments: [String]) throws(Failure) -> String {
        let r = SpawnActions.run(["/bin/bash", PackageFixtures.root + "/tools/pg-scratch.sh"] + arguments)
        guard r.status == 0 else {
            throw Failure(description: "tools/pg-scratch.sh \(arguments.first ?? "") failed (exit \(r.status)): \(r.err)")
        }
        return r.out
    }
}
