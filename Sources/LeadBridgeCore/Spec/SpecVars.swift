/// Spec-level values (`"vars": {"host": "api.cpa.moe"}`) that any string of the merged spec
/// may reference as `{vars.NAME}`: a platform base in `Templates/` writes its URLs and
/// examples once with `https://{vars.host}/…`, and a network on that platform gives little
/// more than its host. Substituted once after `extends` is merged, before the spec is read,
/// so every request, example and emulated route sees the concrete value. A base declares a
/// value the network must give as `null`.
enum SpecVars {
    static let prefix = "{vars."

    static func substitute(_ value: JSONValue, sink: DiagnosticSink) -> JSONValue {
        guard case .object(var top) = value, let rawVars = top["vars"] else { return checkUnused(value, sink: sink) }
        guard case .object(let declared) = rawVars else {
            sink.error("/vars", .notVarsObject(found: rawVars.typeName))
            return value
        }
        var values: [String: String] = [:]
        var missing: [String] = []
        for m in declared.members {
            let pointer = JSONPointer.join("/vars", m.key)
            guard isValidName(m.key) else {
                sink.error(pointer, .varName(m.key))
                continue
            }
            switch m.value {
            case .null: missing.append(m.key)
            case .string(let s):
                if s.isEmpty || s.contains(where: { $0 == "{" || $0 == "}" || $0.isWhitespace }) {
                    sink.error(pointer, .varValue(String(s.prefix(60))))
                } else { values[m.key] = s }
            default:
                sink.error(pointer, .notAVarValue(found: m.value.typeName))
            }
        }
        var used = Set<String>()
        for m in top.members where m.key != "vars" {
            top[m.key] = replace(m.value, at: JSONPointer.join("", m.key), values: values, declared: declared.keys, missing: Set(missing), used: &used, sink: sink)
        }
        return .object(top)
    }

    /// Without `vars`, a `{vars.…}` reference anywhere is an error naming the missing block.
    static func checkUnused(_ value: JSONValue, sink: DiagnosticSink) -> JSONValue {
        guard containsReference(value) else { return value }
        var used = Set<String>()
        return replace(value, at: "", values: [:], declared: [], missing: [], used: &used, sink: sink)
    }

    static func replace(_ v: JSONValue, at pointer: String, values: [String: String], declared: [String], missing: Set<String>,
                        used: inout Set<String>, sink: DiagnosticSink) -> JSONValue {
        switch v {
        case .string(let s) where s.containsLiteral(prefix):
            return .string(replaceText(s, at: pointer, values: values, declared: declared, missing: missing, used: &used, sink: sink))
        case .array(let a):
            return .array(a.enumerated().map { replace($0.element, at: JSONPointer.join(pointer, $0.offset), values: values, declared: declared,
                                                       missing: missing, used: &used, sink: sink) })
        case .object(var o):
            for m in o.members {
                o[m.key] = replace(m.value, at: JSONPointer.join(pointer, m.key), values: values, declared: declared, missing: missing, used: &used, sink: sink)
            }
            return .object(o)
        default:
            return v
        }
    }

    static func replaceText(_ s: String, at pointer: String, values: [String: String], declared: [String], missing: Set<String>,
                            used: inout Set<String>, sink: DiagnosticSink) -> String {
        var out = ""
        var rest = Substring(s)
        while let r = rest.firstRange(of: prefix) {
            out += rest[rest.startIndex..<r.lowerBound]
            guard let close = rest[r.upperBound...].firstIndex(of: "}") else { out += rest[r.lowerBound...]; rest = ""; break }
            let name = String(rest[r.upperBound..<close])
            if let value = values[name] {
                out += value
                used.insert(name)
            } else if missing.contains(name) {
                sink.error(pointer, .varMissing(name))
                out += rest[r.lowerBound...close]
            } else {
                sink.error(pointer, .varUnknown(name, suggestion: Suggestions.best(name, among: declared, quote: { "{vars.\($0)}" }), noVars: declared.isEmpty))
                out += rest[r.lowerBound...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// A cheap scan so specs without references are passed through untouched.
    static func containsReference(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): return s.containsLiteral(prefix)
        case .array(let a): return a.contains(where: containsReference)
        case .object(let o): return o.members.contains { containsReference($0.value) }
        default: return false
        }
    }

    static func isValidName(_ n: String) -> Bool {
        guard let f = n.first, f.isASCII, f.isLowercase else { return false }
        return n.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }
}
