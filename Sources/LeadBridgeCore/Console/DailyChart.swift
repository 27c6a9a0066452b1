/// The funnel's daily chart as inline SVG, drawn on the server: for each day a bar of leads
/// sent and, inside it, a bar of those approved. Works without JavaScript; every label goes
/// through the HTML builder, so it is escaped like any other text.
public enum DailyChart {
    public static let width = 760
    public static let height = 240
    static let left = 48, right = 12, top = 16, bottom = 40

    public static func svg(_ days: [FunnelDay], title: String, sentLabel: String, approvedLabel: String) -> HTML {
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let maxValue = max(1, days.map(\.sent).max() ?? 0)
        let scaleTop = niceCeiling(maxValue)
        let slot = days.isEmpty ? Double(plotWidth) : Double(plotWidth) / Double(days.count)
        let barWidth = max(1.0, slot * 0.7)
        func y(_ v: Int) -> Double { Double(top) + Double(plotHeight) * (1 - Double(v) / Double(scaleTop)) }
        func f(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }

        var parts: [HTML] = [.tag("title", text: title)]
        // Grid lines with their values: 0, half, top.
        for v in [0, scaleTop / 2, scaleTop] {
            parts.append(.tag("line", [.class("grid"), .init("x1", String(left)), .init("x2", String(width - right)), .init("y1", f(y(v))), .init("y2", f(y(v)))]))
            parts.append(.tag("text", [.class("axis"), .init("x", String(left - 6)), .init("y", f(y(v) + 4)), .init("text-anchor", "end")], text: String(v)))
        }
        let labelEvery = max(1, days.count / 10)
        for (i, d) in days.enumerated() {
            let x = Double(left) + slot * Double(i) + (slot - barWidth) / 2
            let date = ISODate.format(d.start, pattern: "dd.MM")
            parts.append(.tag("rect", [.class("bar-sent"), .init("x", f(x)), .init("y", f(y(d.sent))), .init("width", f(barWidth)),
                                       .init("height", f(y(0) - y(d.sent)))], [.tag("title", text: "\(date): \(sentLabel) \(d.sent), \(approvedLabel) \(d.approved)")]))
            parts.append(.tag("rect", [.class("bar-approved"), .init("x", f(x + barWidth * 0.2)), .init("y", f(y(d.approved))), .init("width", f(barWidth * 0.6)),
                                       .init("height", f(y(0) - y(d.approved)))]))
            if i % labelEvery == 0 {
                parts.append(.tag("text", [.class("axis"), .init("x", f(x + barWidth / 2)), .init("y", String(height - bottom + 16)), .init("text-anchor", "middle")],
                                  text: date))
            }
        }
        // Legend.
        parts.append(.tag("rect", [.class("bar-sent"), .init("x", String(left)), .init("y", String(height - 14)), .init("width", "10"), .init("height", "10")]))
        parts.append(.tag("text", [.class("axis"), .init("x", String(left + 14)), .init("y", String(height - 5))], text: sentLabel))
        parts.append(.tag("rect", [.class("bar-approved"), .init("x", String(left + 150)), .init("y", String(height - 14)), .init("width", "10"), .init("height", "10")]))
        parts.append(.tag("text", [.class("axis"), .init("x", String(left + 164)), .init("y", String(height - 5))], text: approvedLabel))
        return .tag("svg", [.init("xmlns", "http://www.w3.org/2000/svg"), .class("chart"), .init("viewBox", "0 0 \(width) \(height)"), .init("role", "img"),
                            .init("aria-label", title)], parts)
    }

    /// The smallest of 1, 2, 5 × 10^n at or above `v` (an even axis top).
    static func niceCeiling(_ v: Int) -> Int {
        var magnitude = 1
        while magnitude * 10 <= v { magnitude *= 10 }
        for m in [1, 2, 5, 10] where m * magnitude >= v { return m * magnitude }
        return 10 * magnitude
    }
}
