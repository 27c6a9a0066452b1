/// Collects diagnostics while a JSON document is turned into typed values. Every error names
/// the JSON pointer and, through the source map, the file, line and column.
final class DiagnosticSink {
    var diagnostics: [Diagnostic] = []
    let map: SourceMap

    init(map: SourceMap) { self.map = map }

    func error(_ pointer: String, key: Bool = false, _ message: DiagnosticMessage) {
        diagnostics.append(map.diagnostic(.error, at: pointer, key: key, message))
    }

    func warning(_ pointer: String, _ message: DiagnosticMessage) {
        diagnostics.append(map.diagnostic(.warning, at: pointer, message))
    }
}

/// A JSON object being read: typed getters that report wrong types and missing keys, and
/// `finish` that reports keys nobody asked for (with a "did you mean").
struct ObjectReader {
    let object: JSONObject
    let pointer: String
    let sink: DiagnosticSink

    init?(_ value: JSONValue, at pointer: String, sink: DiagnosticSink, what: DiagnosticMessage.Subject = .value) {
        guard case .object(let o) = value else {
            sink.error(pointer, .notAnObject(what, found: value.typeName))
            return nil
        }
        self.object = o
        self.pointer = pointer
        self.sink = sink
    }

    func path(_ key: String) -> String { JSONPointer.join(pointer, key) }

    /// Reports unknown keys. `allowed` is the full list of keys this object may have.
    func finish(_ allowed: [String]) {
        for m in object.members where !allowed.contains(m.key) {
            sink.error(path(m.key), key: true, .unknownKey(m.key, suggestion: Suggestions.best(m.key, among: allowed)))
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func raw(_ key: String, required: Bool = false) -> JSONValue? {
        guard let v = object[key] else {
            if required { sink.error(pointer, .missingKey(key)) }
            return nil
        }
        return v
    }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let v = raw(key, required: required) else { return nil }
        guard case .string(let s) = v else {
            sink.error(path(key), .notAString(found: v.typeName))
            return nil
        }
        return s
    }

    /// A string or null (null is kept as an explicit "no value", e.g. an empty tail).
    func optionalString(_ key: String) -> (present: Bool, value: String?) {
        guard let v = object[key] else { return (false, nil) }
        if v.isNull { return (true, nil) }
        guard case .string(let s) = v else {
            sink.error(path(key), .notAStringOrNull(found: v.typeName))
            return (true, nil)
        }
        return (true, s)
    }

    func bool(_ key: String, default d: Bool) -> Bool {
        guard let v = raw(key) else { return d }
        guard case .bool(let b) = v else {
            sink.error(path(key), .notABoolean(found: v.typeName))
            return d
        }
        return b
    }

    func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let v = raw(key, required: required) else { return nil }
        guard let i = v.intValue else {
            sink.error(path(key), .notAnInteger(found: v.typeName))
            return nil
        }
        if let range, !range.contains(i) {
            sink.error(path(key), .outOfRange(lower: range.lowerBound, upper: range.upperBound, found: i))
            return nil
        }
        return i
    }

    func number(_ key: String, positive: Bool = false) -> Double? {
        guard let v = raw(key) else { return nil }
        guard let d = v.doubleValue else {
            sink.error(path(key), .notANumber(found: v.typeName))
            return nil
        }
        if positive && !(d > 0) { sink.error(path(key), .notPositive); return nil }
        return d
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required: Bool = false) -> E? where E.RawValue == String {
        guard let s = string(key, required: required) else { return nil }
        guard let e = E(rawValue: s) else {
            let options = E.allCases.map(\.rawValue)
            sink.error(path(key), .notOneOf(options, found: s, suggestion: Suggestions.best(s, among: options)))
            return nil
        }
        return e
    }

    func object(_ key: String, required: Bool = false) -> ObjectReader? {
        guard let v = raw(key, required: required) else { return nil }
        return ObjectReader(v, at: path(key), sink: sink)
    }

    /// Array elements with their pointers.
    func array(_ key: String, required: Bool = false) -> [(value: JSONValue, pointer: String)]? {
        guard let v = raw(key, required: required) else { return nil }
        guard case .array(let items) = v else {
            sink.error(path(key), .notAnArray(found: v.typeName))
            return nil
        }
        return items.enumerated().map { ($0.element, JSONPointer.join(path(key), $0.offset)) }
    }

    /// A string or an array of strings, as an array.
    func strings(_ key: String) -> [String] {
        guard let v = raw(key) else { return [] }
        if case .string(let s) = v { return [s] }
        guard case .array(let items) = v else {
            sink.error(path(key), .notStringOrStrings(found: v.typeName))
            return []
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            if case .string(let s) = item { out.append(s) } else if case .number(let n) = item { out.append(n) } else {
                sink.error(JSONPointer.join(path(key), i), .notAString(found: item.typeName))
            }
        }
        return out
    }

    func localized(_ key: String, required: Bool = false) -> Localized? {
        guard let v = raw(key, required: required) else { return nil }
        return SpecReader.localized(v, at: path(key), sink: sink)
    }

    /// A template string, parsed and checked against `scope`.
    func template(_ key: String, scope: TemplateScope, required: Bool = false) -> Template? {
        guard let v = raw(key, required: required) else { return nil }
        return SpecReader.template(v, at: path(key), scope: scope, sink: sink)
    }
}

/// Turns merged spec JSON into a `NetworkSpec`, reporting every problem it finds.
enum SpecReader {
    static func localized(_ v: JSONValue, at pointer: String, sink: DiagnosticSink) -> Localized? {
        if case .string(let s) = v {
            sink.warning(pointer, .translationPlain)
            return Localized(ru: s)
        }
        guard let o = ObjectReader(v, at: pointer, sink: sink, what: .text) else { return nil }
        o.finish(["ru", "en"])
        guard let ru = o.string("ru", required: true) else { return nil }
        let en = o.string("en")
        if en == nil { sink.warning(pointer, .translationNoEnglish) }
        return Localized(ru: ru, en: en)
    }

    static func template(_ v: JSONValue, at pointer: String, scope: TemplateScope, sink: DiagnosticSink) -> Template? {
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let n): text = n
        case .bool(let b): text = b ? "1" : "0"
        default:
            sink.error(pointer, .notATemplate(found: v.typeName))
            return nil
        }
        do {
            let t = try Template.parse(text)
            for p in t.placeholders {
                if let e = scope.check(p) { sink.error(pointer, e.problem) }
            }
            return t
        } catch {
            sink.error(pointer, error.problem)
            return nil
        }
    }

    // MARK: - The whole spec

    static let topKeys = ["$schema", "id", "name", "title", "summary", "aliases", "extends", "kind", "notes", "credentials", "params",
                          "postbacks", "statuses", "statusNames", "statusDefaults", "reasons", "chargebacks", "dedupe", "send", "poll", "outgoing", "intake",
                          "exampleAccount", "examples", "pollExamples", "outgoingExamples", "sources", "vars", "platform", "report"]

    static func read(_ value: JSONValue, file: String, map: SourceMap, expectedId: String?) -> (NetworkSpec?, [Diagnostic]) {
        let sink = DiagnosticSink(map: map)
        let value = SpecVars.substitute(value, sink: sink)
        guard let top = ObjectReader(value, at: "", sink: sink, what: .spec) else { return (nil, sink.diagnostics) }
        top.finish(topKeys)
        let id = top.string("id", required: true) ?? ""
        if top.has("id"), id.isEmpty, top.raw("id")?.stringValue != nil {
            sink.error("/id", .idEmpty)
        } else if !id.isEmpty, !isValidId(id) {
            sink.error("/id", .idInvalid(id))
        }
        if let expectedId, !id.isEmpty, id != expectedId {
            sink.error("/id", .idMismatch(id: id, file: expectedId))
        }
        let name = top.string("name", required: true) ?? id
        let title = top.string("title") ?? name
        let aliases = top.strings("aliases").map { $0.lowercased() }
        let kind = top.enumValue("kind", NetworkSpec.Kind.self) ?? .network
        let notes = (top.array("notes") ?? []).compactMap { localized($0.value, at: $0.pointer, sink: sink) }
        let credentials = readCredentials(top, sink: sink)
        let params = readParams(top, sink: sink)
        let credentialKeys = credentials.map(\.key), paramKeys = params.map(\.key)
        let postbacks = top.object("postbacks").map { readPostbacks($0, sink: sink) }
        let statuses = top.object("statuses").map { readStatuses($0) } ?? StatusTable()
        let reasons = top.object("reasons").map { readReasons($0) } ?? [:]
        let send = top.object("send").flatMap { SendSpecReader.readSend($0, credentials: credentialKeys, params: paramKeys) }
        let poll = top.object("poll").flatMap { SendSpecReader.readPoll($0, credentials: credentialKeys, params: paramKeys) }
        let outgoing = (top.array("outgoing") ?? []).compactMap { item -> OutgoingSpec? in
            guard let o = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            return SendSpecReader.readOutgoing(o, credentials: credentialKeys, params: paramKeys)
        }
        let exampleAccount = top.object("exampleAccount").map { ExampleReader.account($0, name: "example") }
        let examples = (top.array("examples") ?? []).compactMap { ExampleReader.sendExample($0.value, at: $0.pointer, sink: sink) }
        let pollExamples = (top.array("pollExamples") ?? []).compactMap { ExampleReader.pollExample($0.value, at: $0.pointer, sink: sink) }
        if !examples.isEmpty && send == nil { sink.error("/examples", .examplesNeedSend) }
        if !pollExamples.isEmpty && poll == nil { sink.error("/pollExamples", .pollExamplesNeedPoll) }
        let outgoingExamples = (top.array("outgoingExamples") ?? []).compactMap { ExampleReader.outgoingExample($0.value, at: $0.pointer, sink: sink) }
        for e in outgoingExamples where !outgoing.contains(where: { $0.id == e.outgoing }) {
            sink.error(JSONPointer.join(e.pointer, "outgoing"), .noOutgoing(e.outgoing, suggestion: Suggestions.best(e.outgoing, among: outgoing.map(\.id))))
        }
        var statusNames: [String: Localized] = [:]
        if let n = top.object("statusNames") {
            for m in n.object.members {
                if statuses.lookup(m.key) == nil { sink.error(n.path(m.key), key: true, .unknownStatusKey(m.key)) }
                if let label = localized(m.value, at: n.path(m.key), sink: sink) { statusNames[m.key] = label }
            }
        }
        if top.has("extends") { _ = top.strings("extends") }

        let spec = NetworkSpec(
            id: id, name: name, title: title, summary: top.localized("summary"), aliases: aliases, kind: kind, notes: notes, credentials: credentials, params: params,
            postbacks: postbacks, statuses: statuses, statusNames: statusNames, statusDefaults: top.bool("statusDefaults", default: true), reasons: reasons,
            chargebacks: top.bool("chargebacks", default: false), dedupe: top.enumValue("dedupe", Dedupe.self), send: send, poll: poll, outgoing: outgoing,
            intake: top.object("intake").map { readIntake($0) },
            exampleAccount: exampleAccount, examples: examples, pollExamples: pollExamples, outgoingExamples: outgoingExamples,
            sources: top.object("sources").map { readSources($0) } ?? [], platform: top.object("platform").flatMap { readPlatform($0) },
            report: top.object("report").map { readReport($0) }, file: file, sourceMap: map)
        return (spec, sink.diagnostics)
    }

    static func isValidId(_ id: String) -> Bool {
        guard let first = id.first, first.isASCII, first.isLetter || first.isNumber else { return false }
        return id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    static func readCredentials(_ top: ObjectReader, sink: DiagnosticSink) -> [CredentialSpec] {
        var seen = Set<String>()
        return (top.array("credentials") ?? []).compactMap { item in
            guard let o = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            o.finish(["key", "label", "hint", "secret", "required"])
            guard let key = o.string("key", required: true), let label = o.localized("label", required: true) else { return nil }
            if !seen.insert(key).inserted { sink.error(o.path("key"), .credentialTwice(key)) }
            return CredentialSpec(key: key, label: label, hint: o.localized("hint"), secret: o.bool("secret", default: false),
                                  required: o.bool("required", default: true))
        }
    }

    static func readParams(_ top: ObjectReader, sink: DiagnosticSink) -> [ParamSpec] {
        var seen = Set<String>()
        return (top.array("params") ?? []).compactMap { item in
            guard let o = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            o.finish(["key", "description", "required", "pattern"])
            guard let key = o.string("key", required: true), let d = o.localized("description", required: true) else { return nil }
            if !seen.insert(key).inserted { sink.error(o.path("key"), .parameterTwice(key)) }
            let text = o.string("pattern")
            let pattern = text.flatMap(SpecPattern.init)
            if text != nil && pattern == nil {
                sink.error(o.path("pattern"), .invalidRegex)
            }
            return ParamSpec(key: key, description: d, required: o.bool("required", default: true), pattern: pattern)
        }
    }

    static func readPostbacks(_ o: ObjectReader, sink: DiagnosticSink) -> PostbackSpec {
        o.finish(["intro", "items", "form", "instructions", "macros"])
        let items: [PostbackItem] = (o.array("items") ?? []).compactMap { item in
            guard let i = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            i.finish(["label", "tail", "note"])
            guard let label = i.localized("label", required: true) else { return nil }
            let tail = i.optionalString("tail")
            if !tail.present { sink.error(item.pointer, .missingTail) }
            let note = i.localized("note")
            if tail.value == nil && tail.present && note == nil {
                sink.error(item.pointer, .tailNeedsNote)
            }
            return PostbackItem(label: label, tail: tail.value, note: note)
        }
        var form: PostbackForm?
        if let f = o.object("form") {
            f.finish(["intro", "fields", "extraIntro", "extra", "path", "tokenParam"])
            let fields: [PostbackForm.Field] = (f.array("fields") ?? []).compactMap { item in
                guard let r = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
                r.finish(["label", "value"])
                guard let l = r.localized("label", required: true), let v = r.localized("value", required: true) else { return nil }
                return PostbackForm.Field(label: l, value: v)
            }
            let extra: [PostbackForm.Extra] = (f.array("extra") ?? []).compactMap { item in
                guard let r = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
                r.finish(["key", "kind", "value"])
                guard let k = r.string("key", required: true), let kind = r.enumValue("kind", PostbackForm.Extra.Kind.self, required: true),
                      let v = r.localized("value", required: true) else { return nil }
                return PostbackForm.Extra(key: k, kind: kind, value: v)
            }
            if let intro = f.localized("intro", required: true) {
                let path = f.string("path")
                if let path, !path.hasPrefix("/") { sink.error(f.path("path"), .pathNeedsSlash) }
                form = PostbackForm(intro: intro, fields: fields, extraIntro: f.localized("extraIntro"), extra: extra, path: path,
                                    tokenParam: f.string("tokenParam"))
            }
        }
        var instructions: PostbackInstructions?
        if let i = o.object("instructions") {
            i.finish(["intro", "items"])
            let lines = (i.array("items") ?? []).compactMap { localized($0.value, at: $0.pointer, sink: sink) }
            if let intro = i.localized("intro", required: true) { instructions = PostbackInstructions(intro: intro, items: lines) }
        }
        var macros: [(String, MacroMeaning)] = []
        if let m = o.object("macros") {
            for member in m.object.members {
                guard let s = member.value.stringValue else {
                    sink.error(m.path(member.key), .notAString(found: member.value.typeName))
                    continue
                }
                guard let meaning = MacroMeaning(rawValue: s) else {
                    let options = MacroMeaning.allCases.map(\.rawValue)
                    sink.error(m.path(member.key), .unknownMacroMeaning(s, options: options, suggestion: Suggestions.best(s, among: options)))
                    continue
                }
                macros.append((member.key, meaning))
            }
        }
        return PostbackSpec(intro: o.localized("intro"), items: items, form: form, instructions: instructions, macros: macros)
    }

    static func readStatuses(_ o: ObjectReader) -> StatusTable {
        o.finish(StatusBucket.allCases.map(\.rawValue))
        var words: [StatusBucket: [String]] = [:]
        for b in StatusBucket.allCases where o.has(b.rawValue) {
            let list = o.strings(b.rawValue)
            for (i, w) in list.enumerated() where w.trimmingWhitespace.isEmpty || w != w.trimmingWhitespace {
                o.sink.error(JSONPointer.join(o.path(b.rawValue), i), .statusWordBlank)
            }
            words[b] = list
        }
        return StatusTable(words)
    }

    static func readReport(_ o: ObjectReader) -> ReportSpec {
        o.finish(["columns", "statuses"])
        var columns: [ReportRole: [String]] = [:]
        if let c = o.object("columns") {
            c.finish(ReportRole.allCases.map(\.rawValue))
            for role in ReportRole.allCases where c.has(role.rawValue) { columns[role] = c.strings(role.rawValue) }
        }
        let statuses = o.object("statuses").map { readStatuses($0) } ?? StatusTable()
        for (word, buckets) in statuses.conflicts {
            o.sink.error(o.path("statuses"), .statusConflict(word: word, buckets: buckets.map(\.rawValue)))
        }
        return ReportSpec(columns: columns, statuses: statuses)
    }

    static func readReasons(_ o: ObjectReader) -> [String: ReasonSpec] {
        var out: [String: ReasonSpec] = [:]
        for m in o.object.members {
            guard let r = ObjectReader(m.value, at: o.path(m.key), sink: o.sink) else { continue }
            r.finish(["bucket", "detail", "label"])
            let bucket = r.enumValue("bucket", StatusBucket.self)
            out[m.key] = ReasonSpec(bucket: bucket, detail: r.string("detail"), label: r.localized("label"))
        }
        return out
    }
}
