/// "Did you mean" suggestions for unknown keys, ids, placeholders and filters.
public enum Suggestions {
    /// Levenshtein distance over characters (case-insensitive).
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased()), y = Array(b.lowercased())
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// Candidates close to `word`, best first: within a third of its length (at least 2 edits),
    /// or sharing a prefix.
    public static func closest(to word: String, among candidates: [String], limit: Int = 3) -> [String] {
        // Nothing a person typed for a key or an id is this long: no quadratic work on it.
        guard word.utf8.count <= 256 else { return [] }
        let w = word.lowercased()
        let scored = candidates.compactMap { c -> (String, Int)? in
            let budget = max(2, w.count / 3)
            let d = abs(w.count - c.count) > budget ? budget + 1 : distance(w, c)
            if d <= budget { return (c, d) }
            let lc = c.lowercased()
            if w.count >= 3, lc.hasPrefix(w) || w.hasPrefix(lc) || lc.contains(w) { return (c, budget + 1) }
            return nil
        }
        var seen = Set<String>()
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0).filter { seen.insert($0).inserted }.prefix(limit).map { $0 }
    }

    /// The closest candidate, quoted as the syntax around it wants (`"x"` by default), or nil.
    public static func best(_ word: String, among candidates: [String], quote: (String) -> String = { "\"\($0)\"" }) -> String? {
        closest(to: word, among: candidates, limit: 1).first.map(quote)
    }

    /// ` (did you mean "x"?)` or an empty string.
    public static func didYouMean(_ word: String, among candidates: [String], quote: (String) -> String = { "\"\($0)\"" }) -> String {
        best(word, among: candidates, quote: quote).map { " (did you mean \($0)?)" } ?? ""
    }
}
