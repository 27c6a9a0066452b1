/// A spec or template file's bytes, as read by the edge (CLI, engine). `layer` 0 is the
/// shipped `Networks/`; higher layers are the user's folders, which override by id.
public struct SpecSource: Sendable {
    public var path: String
    public var bytes: [UInt8]
    public var layer: Int
    public init(path: String, bytes: [UInt8], layer: Int = 0) { self.path = path; self.bytes = bytes; self.layer = layer }

    /// The file name without `.json`.
    public var stem: String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.hasSuffix(".json") ? String(name.dropLast(5)) : name
    }
}

/// The title, intro and order of the catalog document (`Templates/catalog.json`).
public struct CatalogInfo: Sendable {
    public var title: Localized
    public var intro: Localized?
    public var order: [String]
    public init(title: Localized, intro: Localized?, order: [String]) { self.title = title; self.intro = intro; self.order = order }
}

/// Shared status words and reason codes (`Templates/statuses.json`).
public struct StatusDefaults: Sendable {
    public var statuses: StatusTable
    public var reasons: [String: ReasonSpec]
    public init(statuses: StatusTable = StatusTable(), reasons: [String: ReasonSpec] = [:]) { self.statuses = statuses; self.reasons = reasons }
}

/// Finding specs by id or alias, for readers that check names against them (the config
/// reader). `SpecLibrary` is one; a lazy loader reading one file per id can be another.
public protocol SpecLookup: Sendable {
    func spec(_ idOrAlias: String) -> NetworkSpec?
    /// Ids closest to an unknown name, best first (for "did you mean").
    func closest(to name: String) -> [String]
}

/// Every loaded spec plus what they share. Lookup by id or alias, case-insensitive.
public struct SpecLibrary: SpecLookup {
    /// In catalog order (catalog.json first, the rest by id).
    public var specs: [NetworkSpec]
    public var catalog: CatalogInfo
    public var defaults: StatusDefaults
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter(\.isError) }

    public func spec(_ idOrAlias: String) -> NetworkSpec? {
        let key = idOrAlias.lowercased()
        return specs.first { $0.id == key } ?? specs.first { $0.aliases.contains(key) }
    }

    /// Ids and aliases closest to an unknown name, for "did you mean".
    public func closest(to name: String) -> [String] {
        let candidates = specs.map(\.id)
        var found = Suggestions.closest(to: name, among: candidates, limit: 5)
        for s in specs where s.aliases.contains(where: { Suggestions.distance($0, name) <= max(1, name.count / 3) }) && !found.contains(s.id) {
            found.append(s.id)
        }
        return Array(found.prefix(5))
    }
}

/// Load pipeline: parse (with positions) → resolve `extends` (deep merge) → read into typed
/// specs → cross-spec checks. Pure: files come in as bytes.
public enum SpecLoader {
    public static let reservedTemplates = ["network.schema", "catalog", "statuses", "catalog.schema", "statuses.schema"]

    /// How much checking a load does. `full` (lint, tests) records positions and runs the
    /// semantic rules; `fast` (every other command) skips both unless a file has a problem,
    /// which is then re-read with positions so its message still has `line:col`.
    public enum Checks: Sendable { case full, fast }

    public static func load(networks: [SpecSource], templates: [SpecSource], checks: Checks = .full) -> SpecLibrary {
        var diagnostics: [Diagnostic] = []
        var bases: [String: (PositionedJSON, SpecSource)] = [:]
        var fastBases: [String: (PositionedJSON, SpecSource)] = [:]
        var catalog = CatalogInfo(title: Localized(ru: "Партнёрские сети", en: "Partner networks"), intro: nil, order: [])
        var defaults = StatusDefaults()

        // Schemas are never parsed at run time. In a fast load a template is parsed without
        // positions; only a file with a problem is parsed again with them, for `line:col`.
        var positionedTemplates: [SpecSource] = []
        for t in templates where !["network.schema", "catalog.schema", "statuses.schema"].contains(t.stem) {
            if checks == .fast, let plain = try? JSONParser.parse(t.bytes, maxString: InputLimits.specString) {
                let quick = PositionedJSON(value: plain, positions: [:])
                var problems: [Diagnostic] = []
                switch t.stem {
                case "catalog": if let c = readCatalog(quick, t, &problems), problems.isEmpty { catalog = c; continue }
                case "statuses":
                    let d = readDefaults(quick, t, &problems)
                    if problems.isEmpty { defaults = d; continue }
                default:
                    fastBases[t.stem] = (quick, t)
                }
            }
            positionedTemplates.append(t)
        }
        func readPositioned(_ t: SpecSource) {
            guard let parsed = parse(t, into: &diagnostics) else { return }
            switch t.stem {
            case "catalog": catalog = readCatalog(parsed, t, &diagnostics) ?? catalog
            case "statuses": defaults = readDefaults(parsed, t, &diagnostics)
            default: bases[t.stem] = (parsed, t)
            }
        }
        for t in positionedTemplates { readPositioned(t) }
        // Bases with positions are made only when some network needs the slow path.
        var positionedBasesMade = checks == .full
        func positionedBases() -> [String: (PositionedJSON, SpecSource)] {
            if !positionedBasesMade {
                positionedBasesMade = true
                for (_, (_, t)) in fastBases.sorted(by: { $0.key < $1.key }) where bases[t.stem] == nil { readPositioned(t) }
            }
            return bases
        }

        // Parse every network file; the highest layer wins per id.
        var chosen: [String: (NetworkSpec, Int)] = [:]
        var sameLayer: [String: [String]] = [:]
        for source in networks {
            var spec: NetworkSpec?
            var diags: [Diagnostic] = []
            if checks == .fast, source.bytes.count <= InputLimits.specBytes, let plain = try? JSONParser.parse(source.bytes, maxString: InputLimits.specString),
               let (merged, map) = resolve(PositionedJSON(value: plain, positions: [:]), source: source, bases: fastBases, diagnostics: &diags), diags.isEmpty {
                (spec, diags) = SpecReader.read(merged, file: source.path, map: map, expectedId: source.stem)
                if !diags.isEmpty { spec = nil }
            }
            if spec == nil {
                diags = []
                guard let parsed = parse(source, into: &diagnostics) else { continue }
                guard let (merged, map) = resolve(parsed, source: source, bases: positionedBases(), diagnostics: &diagnostics) else { continue }
                (spec, diags) = SpecReader.read(merged, file: source.path, map: map, expectedId: source.stem)
            }
            diagnostics += diags
            guard let spec, !spec.id.isEmpty else { continue }
            if checks == .full { diagnostics += SpecLinter.lint(spec, defaults: defaults) }
            sameLayer["\(source.layer)/\(spec.id)", default: []].append(source.path)
            if let existing = chosen[spec.id], existing.1 > source.layer { continue }
            chosen[spec.id] = (spec, source.layer)
        }
        for (key, files) in sameLayer where files.count > 1 {
            let id = String(key.split(separator: "/", maxSplits: 1)[1])
            for f in files.dropFirst() {
                diagnostics.append(Diagnostic(file: f, pointer: "/id", .idAlsoIn(id: id, file: files[0])))
            }
        }
        var specs = chosen.values.map(\.0)
        diagnostics += aliasCollisions(chosen.values.map { ($0.0, $0.1) })
        let position = Dictionary(catalog.order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        specs.sort { a, b in
            switch (position[a.id], position[b.id]) {
            case let (x?, y?): return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.id < b.id
            }
        }
        diagnostics.sort { ($0.file, $0.position?.line ?? 0, $0.position?.column ?? 0) < ($1.file, $1.position?.line ?? 0, $1.position?.column ?? 0) }
        return SpecLibrary(specs: specs, catalog: catalog, defaults: defaults, diagnostics: diagnostics)
    }

    /// Aliases must not collide with ids or other aliases. The finding goes to the spec of the
    /// higher layer (a user's file over a shipped one), so `lint FILE` shows it on FILE.
    static func aliasCollisions(_ specs: [(spec: NetworkSpec, layer: Int)]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        var layerOf: [String: Int] = [:]
        var owner: [String: String] = [:]
        for s in specs { owner[s.spec.id] = s.spec.id; layerOf[s.spec.id] = s.layer }
        let bySpec = Dictionary(specs.map { ($0.spec.id, $0.spec) }, uniquingKeysWith: { a, _ in a })
        for s in specs.sorted(by: { ($0.layer, $0.spec.id) < ($1.layer, $1.spec.id) }) {
            for a in s.spec.aliases where a != s.spec.id {
                guard let other = owner[a], other != s.spec.id else { owner[a] = s.spec.id; continue }
                if other == a, let otherSpec = bySpec[other], (layerOf[other] ?? 0) > s.layer {
                    // A newer spec's id is an older spec's alias: the newer one is the change.
                    out.append(otherSpec.sourceMap.diagnostic(at: "/id", .idIsAlias(id: a, of: s.spec.id)))
                } else {
                    out.append(s.spec.sourceMap.diagnostic(at: "/aliases", .aliasTaken(alias: a, by: other)))
                }
            }
        }
        return out
    }

    static func parse(_ source: SpecSource, into diagnostics: inout [Diagnostic]) -> PositionedJSON? {
        guard source.bytes.count <= InputLimits.specBytes else {
            diagnostics.append(Diagnostic(file: source.path, .fileTooLarge(size: nil, limit: InputLimits.specBytes)))
            return nil
        }
        do {
            return try JSONParser.parseWithPositions(source.bytes, maxString: InputLimits.specString)
        } catch {
            diagnostics.append(Diagnostic(file: source.path, position: error.position, .jsonSyntax(error.problem)))
            return nil
        }
    }

    /// Applies `extends` chains. Returns the merged value and a source map that points each
    /// value at the file it came from.
    static func resolve(_ parsed: PositionedJSON, source: SpecSource, bases: [String: (PositionedJSON, SpecSource)],
                        diagnostics: inout [Diagnostic]) -> (JSONValue, SourceMap)? {
        var visiting: [String] = []
        func expand(_ value: JSONValue, _ map: SourceMap, file: String) -> (JSONValue, SourceMap)? {
            guard case .object(let o) = value, let ext = o["extends"] else { return (value, map) }
            let names: [String]
            switch ext {
            case .string(let s): names = [s]
            case .array(let a) where a.allSatisfy({ $0.stringValue != nil }): names = a.compactMap(\.stringValue)
            default:
                diagnostics.append(map.diagnostic(at: "/extends", .notTemplateNames))
                return nil
            }
            var acc: JSONValue = .object(JSONObject())
            var accMap = SourceMap(file: file)
            for (i, name) in names.enumerated() {
                let pointer = ext.arrayValue == nil ? "/extends" : "/extends/\(i)"
                guard let (base, baseSource) = bases[name] else {
                    diagnostics.append(map.diagnostic(at: pointer, .unknownTemplate(name, suggestion: Suggestions.best(name, among: bases.keys.sorted()))))
                    return nil
                }
                if visiting.contains(name) {
                    diagnostics.append(map.diagnostic(at: pointer, .extendsCycle(visiting + [name])))
                    return nil
                }
                visiting.append(name)
                defer { visiting.removeLast() }
                guard let (expanded, expandedMap) = expand(base.value, SourceMap(file: baseSource.path, positions: base.positions), file: baseSource.path) else { return nil }
                let (merged, replaced) = deepMerge(acc, expanded, pointer: "")
                accMap = accMap.overlaid(with: expandedMap, replacedSubtrees: replaced)
                acc = merged
            }
            var own = o
            own["extends"] = nil
            let (merged, replaced) = deepMerge(acc, .object(own), pointer: "")
            return (merged, accMap.overlaid(with: map, replacedSubtrees: replaced))
        }
        return expand(parsed.value, SourceMap(file: source.path, positions: parsed.positions), file: source.path)
    }

    /// Objects merge key by key (top wins); anything else is replaced. Returns the pointers
    /// whose subtree was replaced, so the source map forgets the base's positions there.
    static func deepMerge(_ base: JSONValue, _ top: JSONValue, pointer: String) -> (JSONValue, [String]) {
        guard case .object(var b) = base, case .object(let t) = top else { return (top, [pointer]) }
        var replaced: [String] = []
        for m in t.members {
            let p = JSONPointer.join(pointer, m.key)
            if let existing = b[m.key] {
                let (v, r) = deepMerge(existing, m.value, pointer: p)
                b[m.key] = v
                replaced += r
            } else {
                b[m.key] = m.value
            }
        }
        return (.object(b), replaced)
    }

    static func readCatalog(_ parsed: PositionedJSON, _ source: SpecSource, _ diagnostics: inout [Diagnostic]) -> CatalogInfo? {
        let sink = DiagnosticSink(map: SourceMap(file: source.path, positions: parsed.positions))
        defer { diagnostics += sink.diagnostics }
        guard let o = ObjectReader(parsed.value, at: "", sink: sink, what: .catalog) else { return nil }
        o.finish(["$schema", "title", "intro", "order"])
        guard let title = o.localized("title", required: true) else { return nil }
        return CatalogInfo(title: title, intro: o.localized("intro"), order: o.strings("order"))
    }

    static func readDefaults(_ parsed: PositionedJSON, _ source: SpecSource, _ diagnostics: inout [Diagnostic]) -> StatusDefaults {
        let sink = DiagnosticSink(map: SourceMap(file: source.path, positions: parsed.positions))
        defer { diagnostics += sink.diagnostics }
        guard let o = ObjectReader(parsed.value, at: "", sink: sink, what: .statusDefaults) else { return StatusDefaults() }
        o.finish(["$schema", "statuses", "reasons"])
        let table = o.object("statuses").map { SpecReader.readStatuses($0) } ?? StatusTable()
        for (word, buckets) in table.conflicts {
            sink.error("/statuses", .statusConflict(word: word, buckets: buckets.map(\.rawValue)))
        }
        return StatusDefaults(statuses: table, reasons: o.object("reasons").map { SpecReader.readReasons($0) } ?? [:])
    }
}
