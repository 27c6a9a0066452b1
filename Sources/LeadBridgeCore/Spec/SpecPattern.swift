/// A regular expression written in a spec (a parameter's `pattern`, an outcome's `matches`),
/// compiled once when the spec loads instead of on every lead or response. Compared and
/// hashed by its text.
public struct SpecPattern: @unchecked Sendable, Hashable, CustomStringConvertible {
    // @unchecked: `Regex<AnyRegexOutput>` is not Sendable only because its match output type is
    // not; the compiled program it holds is the same thread-safe storage that makes
    // `Regex<Substring>` Sendable. This type never hands out a match, only Bools.
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    /// Nil when `source` is not a valid regular expression (the reader reports it).
    public init?(_ source: String) {
        guard let regex = try? Regex(source) else { return nil }
        self.source = source
        self.regex = regex
    }

    /// Somewhere in `text`.
    public func found(in text: String) -> Bool { text.contains(regex) }

    /// All of `text`.
    public func matchesWhole(_ text: String) -> Bool { (try? regex.wholeMatch(in: text)) != nil }

    public var description: String { source }
    public static func == (a: SpecPattern, b: SpecPattern) -> Bool { a.source == b.source }
    public func hash(into h: inout Hasher) { h.combine(source) }
}
