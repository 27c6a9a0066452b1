import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import LeadBridgeCore
import Synchronization

/// Where the CLI writes: stdout for results, stderr for messages. Tests capture both.
public struct CLIOutput: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void

    /// Redraws one status line (a batch's progress bar; `""` clears it); nil when stderr is
    /// not a terminal, and then progress is told in plain lines.
    public var progress: (@Sendable (String) -> Void)?

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.out = out
        self.err = err
        self.progress = progress
    }

    /// The process's own stdout and stderr. A closed pipe (`leadbridge export --csv | head`)
    /// is not an error: the rest of the output is dropped.
    public static let standard = CLIOutput(out: { write(1, $0 + "\n") }, err: { write(2, $0 + "\n") },
                                           progress: isatty(2) == 1 ? drawOnTerminal : nil)

    static let drawOnTerminal: @Sendable (String) -> Void = { line in write(2, "\r\u{1B}[K" + line) }

    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// The few file-system reads the CLI makes, on Glibc (the binary uses FoundationEssentials
/// only: Foundation proper would bring ICU and tens of thousands of relocations to every start).
enum FileSystem {
    /// Nil when nothing is at `path`; else whether it is a folder.
    static func isDirectory(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o170000 == 0o040000
    }

    /// At most `limit` bytes of a file (nil when it cannot be opened).
    static func read(_ path: String, limit: Int = .max) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd, limit: limit)
    }

    /// Everything (up to `limit`) an open descriptor gives until its end.
    static func read(fd: Int32, limit: Int = .max) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}

/// Output lines gathered and written in chunks of about 64 KB (`sync --json` prints a line
/// per status change: 100,000 changes would otherwise be 100,000 writes). `flush` writes the
/// rest; the bytes are the same as line by line.
final class BufferedLines: Sendable {
    private let pending = Mutex<(lines: [String], bytes: Int)>(([], 0))
    private let write: @Sendable (String) -> Void

    init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    func add(_ line: String) {
        // Written under the lock, so chunks keep their order whoever adds the lines.
        pending.withLock { p in
            p.lines.append(line)
            p.bytes += line.utf8.count + 1
            guard p.bytes >= 65_536 else { return }
            write(p.lines.joined(separator: "\n"))
            p = ([], 0)
        }
    }

    func flush() {
        pending.withLock { p in
            if !p.lines.isEmpty { write(p.lines.joined(separator: "\n")) }
            p = ([], 0)
        }
    }
}

/// The process's surroundings, passed in so commands never read globals.
public struct CLIEnvironment: Sendable {
    public var variables: [String: String]
    public var currentDirectory: String
    public var executablePath: String
    public var output: CLIOutput
    /// Seconds since 1970: the wall clock, or a fixed one in tests (golden dry runs and syncs).
    public var clock: @Sendable () -> Int64
    /// How the user ran us (`leadbridge` from PATH, or `.build/debug/leadbridge`): the
    /// commands we print for them to run next start with it, so they work as printed.
    public var invokedAs: String

    public init(variables: [String: String], currentDirectory: String, executablePath: String, output: CLIOutput,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }, invokedAs: String = "leadbridge") {
        self.variables = variables
        self.currentDirectory = currentDirectory
        self.executablePath = executablePath
        self.output = output
        self.clock = clock
        self.invokedAs = invokedAs
    }

    public static func current(output: CLIOutput = .standard) -> CLIEnvironment {
        let argv0 = CommandLine.arguments.first ?? "leadbridge"
        // The binary itself, wherever PATH found it (argv[0] alone is just "leadbridge" then).
        // Read straight from the kernel and libc: Foundation's ProcessInfo and FileManager cost
        // a catalog command a tenth of its start-up in first-use set-up.
        var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &link, Int(PATH_MAX))
        let executable = n > 0 ? String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                               : URL(fileURLWithPath: argv0).standardizedFileURL.path
        var variables: [String: String] = [:]
        if var entry = Optional(environ) {
            while let pair = entry.pointee {
                let text = String(cString: pair)
                if let eq = text.firstIndex(of: "=") { variables[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
                entry = entry.successor()
            }
        }
        let directory = getcwd(nil, 0).map { raw in
            defer { free(raw) }
            return String(cString: raw)
        } ?? "."
        return CLIEnvironment(variables: variables, currentDirectory: directory,
                              executablePath: executable, output: output, invokedAs: argv0.contains("/") ? argv0 : "leadbridge")
    }
}

extension CommandContext {
    /// A table's header row in the chosen language (the catalog keeps it tab-separated).
    func columns(_ say: Say) -> [String] { t(say).split(separator: "\t").map(String.init) }

    /// A path the user gave, made absolute against the working directory.
    func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path.hasPrefix("/") ? path : env.currentDirectory + "/" + path).standardizedFileURL.path
    }
}

/// Finds and reads spec folders: the shipped `Networks/` and `Templates/` (next to the
/// binary, under `share/leadbridge`, or the package root above a development build), then
/// the user's folders (`--networks`, `LEADBRIDGE_NETWORKS`), which override by id.
struct SpecFolders {
    var shippedNetworks: String?
    var shippedTemplates: String?
    var userFolders: [String]

    static func locate(env: CLIEnvironment, extra: [String]) -> SpecFolders {
        func isDir(_ p: String) -> Bool { FileSystem.isDirectory(p) == true }
        var home: String?
        if let h = env.variables["LEADBRIDGE_HOME"], !h.isEmpty { home = h } else {
            var dir = URL(fileURLWithPath: env.executablePath).deletingLastPathComponent()
            for _ in 0..<8 {
                for candidate in [dir.path, dir.appendingPathComponent("share/leadbridge").path] {
                    if home == nil, isDir(candidate + "/Networks"), isDir(candidate + "/Templates") { home = candidate }
                }
                if home != nil { break }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        let fromEnv = (env.variables["LEADBRIDGE_NETWORKS"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return SpecFolders(shippedNetworks: home.map { $0 + "/Networks" }, shippedTemplates: home.map { $0 + "/Templates" },
                           userFolders: fromEnv + extra)
    }

    /// Prints paths relative to the working directory when they are under it.
    static func display(_ path: String, cwd: String) -> String {
        // The common case without URL's path standardisation: an absolute path, no `.`/`..`.
        if path.hasPrefix("/"), cwd.hasPrefix("/"), !path.contains("/."), !cwd.contains("/."), !path.contains("//") {
            let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
            return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
        }
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        let base = URL(fileURLWithPath: cwd).standardizedFileURL.path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }

    /// True when two paths name the same folder or file (after `..` and symlinks).
    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
    }

    static func jsonFiles(in dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        // JSON Schemas are for editors and the schema check, never read at run time.
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") && !$0.hasSuffix(".schema.json") }.sorted().map { dir + "/" + $0 }
    }

    /// Reads a spec file; past the size limit only enough to know it is too large (the
    /// loader reports it), so a huge file is never loaded whole.
    static func read(_ path: String, layer: Int, cwd: String) throws(CLIError) -> SpecSource {
        guard let bytes = FileSystem.read(path, limit: InputLimits.specBytes + 1) else { throw CLIError.io(.cannotRead(display(path, cwd: cwd))) }
        return SpecSource(path: display(path, cwd: cwd), bytes: bytes, layer: layer)
    }

    /// Where network files live, highest layer first: user folders (the later, the higher),
    /// then the shipped `Networks/`. A user "folder" may also be one file.
    func networkLayers(cwd: String) -> [(path: String, layer: Int, isFile: Bool)] {
        var layers: [(path: String, layer: Int, isFile: Bool)] = []
        if let n = shippedNetworks { layers.append((n, 0, false)) }
        for (i, folder) in userFolders.enumerated() {
            let path = folder.hasPrefix("/") ? folder : cwd + "/" + folder
            guard let isDirectory = FileSystem.isDirectory(path) else { continue }
            layers.append((path, i + 1, !isDirectory))
        }
        return layers.reversed()
    }

    /// The template file named `name`, from the highest layer that has it.
    func templateFile(_ name: String, cwd: String) -> (path: String, layer: Int)? {
        for (path, layer, isFile) in networkLayers(cwd: cwd) where !isFile {
            let dirs = layer == 0 ? [shippedTemplates].compactMap { $0 } : [path + "/Templates", path + "/templates"]
            for dir in dirs where FileManager.default.fileExists(atPath: dir + "/" + name + ".json") { return (dir + "/" + name + ".json", layer) }
        }
        return nil
    }

    /// Loads only what one network needs, so a command about one network starts at once: its
    /// file (`<id>.json` from the highest layer; a name that is no file name is looked up as an
    /// alias among the files that mention it), the templates its `extends` chain names, and
    /// the shared status words. The result is checked: nil unless the loaded spec really is
    /// the one the whole library would give for `name` by id or alias — then the caller does
    /// the full load (which also makes the "did you mean" list).
    func loadOne(_ name: String, cwd: String) throws(CLIError) -> (SpecLibrary, NetworkSpec)? {
        let key = name.lowercased()
        guard !key.isEmpty, !key.contains("/"), !key.hasPrefix("."), shippedNetworks != nil || !userFolders.isEmpty else { return nil }
        let layers = networkLayers(cwd: cwd)
        var file: (path: String, layer: Int)?
        for (path, layer, isFile) in layers {
            if isFile {
                if path.split(separator: "/").last.map(String.init) == key + ".json" { file = (path, layer); break }
            } else if FileManager.default.fileExists(atPath: path + "/" + key + ".json") {
                file = (path + "/" + key + ".json", layer)
                break
            }
        }
        if let file, let found = try loadSpec(file, cwd: cwd), found.1.id == key { return found }
        // An alias: only files whose bytes mention the name can hold it; the highest layer's
        // file of the id found must still list it (an override may drop an alias).
        let needle = Array(("\"" + key + "\"").utf8)
        for (path, layer, isFile) in layers {
            for f in isFile ? [path] : Self.jsonFiles(in: path) {
                guard let bytes = FileManager.default.contents(atPath: f), bytes.count <= InputLimits.specBytes,
                      Self.containsCaseInsensitive(Array(bytes), needle), let found = try loadSpec((f, layer), cwd: cwd),
                      found.1.aliases.contains(key) else { continue }
                // The alias belongs to this id; its highest layer decides.
                guard let top = try loadOne(found.1.id, cwd: cwd), top.1.aliases.contains(key) else { return nil }
                return top
            }
        }
        return nil
    }

    /// One network file with the templates it extends (transitively) and the status words.
    private func loadSpec(_ file: (path: String, layer: Int), cwd: String) throws(CLIError) -> (SpecLibrary, NetworkSpec)? {
        let source = try Self.read(file.path, layer: file.layer, cwd: cwd)
        var templates: [SpecSource] = []
        var wanted = Self.extendsNames(source.bytes)
        var seen: Set<String> = []
        while let name = wanted.popLast() {
            guard seen.insert(name).inserted, let t = templateFile(name, cwd: cwd) else { continue }
            let template = try Self.read(t.path, layer: t.layer, cwd: cwd)
            templates.append(template)
            wanted += Self.extendsNames(template.bytes)
        }
        if let statuses = templateFile("statuses", cwd: cwd) { templates.append(try Self.read(statuses.path, layer: statuses.layer, cwd: cwd)) }
        let library = SpecLoader.load(networks: [source], templates: templates, checks: .fast)
        return library.specs.first.map { (library, $0) }
    }

    /// The template names a file's `extends` gives (empty when it has none or is not JSON).
    static func extendsNames(_ bytes: [UInt8]) -> [String] {
        // Most files extend nothing: no parse for those.
        guard bytes.count <= InputLimits.specBytes, containsCaseInsensitive(bytes, Array("\"extends\"".utf8)),
              case .object(let o)? = try? JSONParser.parse(bytes, maxString: InputLimits.specString) else { return [] }
        switch o["extends"] {
        case .string(let s)?: return [s]
        case .array(let a)?: return a.compactMap(\.stringValue)
        default: return []
        }
    }

    static func containsCaseInsensitive(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
        let first = needle[0]
        for i in 0...(haystack.count - needle.count) where lower(haystack[i]) == first {
            var j = 1
            while j < needle.count, lower(haystack[i + j]) == needle[j] { j += 1 }
            if j == needle.count { return true }
        }
        return false
    }

    /// Loads everything; `lintPaths` (files or folders) are added as the top layer.
    func load(cwd: String, lintPaths: [String] = [], checks: SpecLoader.Checks = .fast) throws(CLIError) -> SpecLibrary {
        var networks: [SpecSource] = []
        var templates: [SpecSource] = []
        if let t = shippedTemplates { for f in Self.jsonFiles(in: t) { templates.append(try Self.read(f, layer: 0, cwd: cwd)) } }
        if let n = shippedNetworks { for f in Self.jsonFiles(in: n) { networks.append(try Self.read(f, layer: 0, cwd: cwd)) } }
        var layer = 1
        for folder in userFolders + lintPaths {
            let path = folder.hasPrefix("/") ? folder : cwd + "/" + folder
            guard let isDirectory = FileSystem.isDirectory(path) else {
                throw CLIError.config(.noSuchPath(folder))
            }
            if isDirectory {
                for sub in ["Templates", "templates"] where FileManager.default.fileExists(atPath: path + "/" + sub) {
                    for f in Self.jsonFiles(in: path + "/" + sub) { templates.append(try Self.read(f, layer: layer, cwd: cwd)) }
                }
                for f in Self.jsonFiles(in: path) { networks.append(try Self.read(f, layer: layer, cwd: cwd)) }
            } else {
                networks.append(try Self.read(path, layer: layer, cwd: cwd))
            }
            layer += 1
        }
        if networks.isEmpty {
            throw CLIError.config(.noSpecsFound)
        }
        return SpecLoader.load(networks: Self.once(networks, cwd: cwd), templates: Self.once(templates, cwd: cwd), checks: checks)
    }

    /// Each file once, at the highest layer it was named in (`--networks my-specs lint
    /// my-specs/acme.json` reads acme.json once, so its findings print once).
    static func once(_ sources: [SpecSource], cwd: String) -> [SpecSource] {
        var position: [String: Int] = [:]
        var out: [SpecSource] = []
        for s in sources {
            let key = URL(fileURLWithPath: s.path.hasPrefix("/") ? s.path : cwd + "/" + s.path).standardizedFileURL.path
            if let i = position[key] { out[i] = s } else { position[key] = out.count; out.append(s) }
        }
        return out
    }
}
