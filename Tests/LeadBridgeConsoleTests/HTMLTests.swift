import Testing
import LeadBridgeCore

/// The console's one escaping function and the builder that uses it by construction.
@Suite struct HTMLTests {
    @Test func textAndAttributesAreEscaped() {
        let page = HTML.tag("p", [.class("a\"b"), .init("title", "<x>&'")], text: "<script>alert(1)</script> & \"q\"").render()
        #expect(page == "<p class=\"a&quot;b\" title=\"&lt;x&gt;&amp;&#39;\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</p>")
    }

    @Test func voidElementsHaveNoClosingTag() {
        #expect(HTML.tag("input", [.type("text"), .value("v"), .flag("readonly")]).render() == "<input type=\"text\" value=\"v\" readonly>")
    }

    @Test func consolePathsEncodeTheirValues() {
        let p = ConsolePath(["console", "leads", "a/b?c"], query: [("order", "x&y=z"), ("empty", "")])
        #expect(p.text == "/console/leads/a%2Fb%3Fc?order=x%26y%3Dz")
        #expect(p.with("lang", "en").text == "/console/leads/a%2Fb%3Fc?order=x%26y%3Dz&lang=en")
    }
}
