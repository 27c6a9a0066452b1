/// Writes `JSONValue`s with their key order, in the flavours networks expect.
///
/// `plain` is what most clients send (raw UTF-8, `/` unescaped); `php` is PHP's
/// `json_encode` default (`\/` and `\uXXXX` for every non-ASCII character), which matters
/// when a network signs the exact bytes of the body.
public enum JSONEscaping: String, Sendable, CaseIterable {
    case plain, php
}

public enum JSONWriter {
    public static func compact(_ value: JSONValue, escaping: JSONEscaping = .plain) -> String {
        var out = ""
        write(value, escaping: escaping, indent: nil, level: 0, into: &out)
        return out
    }

    /// Two-space indented output with `"key": value`, for people and golden files.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, escaping: .plain, indent: "  ", level: 0, into: &out)
        return out
    }

    /// One string as a JSON string literal, quotes included.
    public static func quote(_ s: String, escaping: JSONEscaping = .plain) -> String {
        var out = ""
        writeString(s, escaping: escaping, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, escaping: JSONEscaping, indent: String?, level: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): writeString(s, escaping: escaping, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(indent, level + 1, &out)
                write(item, escaping: escaping, indent: indent, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (i, m) in o.members.enumerated() {
                if i > 0 { out += "," }
                newline(indent, level + 1, &out)
                writeString(m.key, escaping: escaping, into: &out)
                out += indent == nil ? ":" : ": "
                write(m.value, escaping: escaping, indent: indent, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out += "}"
        }
    }

    private static func newline(_ indent: String?, _ level: Int, _ out: inout String) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private static let hexDigits = Array("0123456789abcdef")

    private static func writeString(_ s: String, escaping: JSONEscaping, into out: inout String) {
        out += "\""
        // Most strings (ids, statuses, keys) need no escape: written whole, not scalar by scalar.
        if !s.utf8.contains(where: { needsEscape($0, escaping) }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "/" where escaping == .php: out += "\\/"
            default:
                if scalar.value < 0x20 {
                    unicodeEscape(UInt16(scalar.value), &out)
                } else if escaping == .php && scalar.value > 0x7F {
                    for unit in String(scalar).utf16 { unicodeEscape(unit, &out) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Whether a UTF-8 byte starts something `writeString` writes otherwise than as it is.
    private static func needsEscape(_ byte: UInt8, _ escaping: JSONEscaping) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (escaping == .php && (byte == UInt8(ascii: "/") || byte > 0x7F))
    }

    private static func unicodeEscape(_ unit: UInt16, _ out: inout String) {
        out += "\\u"
        out.append(hexDigits[Int((unit >> 12) & 15)])
        out.append(hexDigits[Int((unit >> 8) & 15)])
        out.append(hexDigits[Int((unit >> 4) & 15)])
        out.append(hexDigits[Int(unit & 15)])
    }
}

/// Small builders so code that produces `--json` output reads like the output.
extension JSONValue {
    public static func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    public static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs: pairs)) }
}
