import LeadBridgeCore
import LeadBridgeCrypto

/// What the binary serves besides pages: the style sheet, and the one inline script (copy
/// buttons), whose hash the Content-Security-Policy allows — no other script runs.
enum ConsoleAssets {
    static let styleSheet: StaticString = """
        :root { --ink: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --bg: #f6f7f9; --accent: #1f5fbf; --ok: #1e7d46; --bad: #b3261e; --warn: #8a5a00; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        header { background: #fff; border-bottom: 1px solid var(--line); }
        nav { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 18px; max-width: 1200px; margin: 0 auto; padding: 10px 20px; }
        nav a { color: var(--ink); text-decoration: none; padding: 4px 0; border-bottom: 2px solid transparent; }
        nav a.active { border-bottom-color: var(--accent); font-weight: 600; }
        nav .brand { font-weight: 700; margin-right: 12px; }
        nav .spacer { flex: 1; }
        nav form { margin: 0; }
        main { max-width: 1200px; margin: 0 auto; padding: 16px 20px 40px; }
        h1 { font-size: 22px; margin: 8px 0 16px; }
        h2 { font-size: 17px; margin: 28px 0 10px; }
        p.note, .muted { color: var(--muted); }
        .scroll { overflow-x: auto; margin: 6px 0 12px; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 5px 7px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f5; font-weight: 600; font-size: 12.5px; }
        td.num { white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.total td { font-weight: 600; background: #f3f5f8; }
        code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
        a { color: var(--accent); }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; background: #fff; border: 1px solid var(--line); padding: 10px 12px; }
        form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        input, select, button { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--ink); }
        button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
        button.link { background: none; color: var(--accent); border: none; padding: 4px 0; }
        .copyrow { display: flex; gap: 6px; align-items: center; }
        .copyrow input { flex: 1; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 10px 12px; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; background: #e8ecf2; }
        .ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
        .banner { padding: 10px 14px; border-radius: 6px; margin: 8px 0 16px; border: 1px solid var(--line); background: #fff; }
        .banner.ok { border-color: #a8d5b8; background: #eef8f1; } .banner.bad { border-color: #e6b1ad; background: #fbefee; }
        .login { max-width: 380px; margin: 60px auto; background: #fff; border: 1px solid var(--line); padding: 20px 24px; border-radius: 8px; }
        .login label { display: block; margin: 10px 0 4px; }
        .login input[type=password] { width: 100%; }
        .error { color: var(--bad); }
        svg.chart { width: 100%; max-width: 760px; height: auto; background: #fff; border: 1px solid var(--line); }
        svg.chart .grid { stroke: #e3e7ec; stroke-width: 1; }
        svg.chart .axis { fill: #5f6b7a; font-size: 11px; }
        svg.chart .bar-sent { fill: #9db7e0; }
        svg.chart .bar-approved { fill: #1e7d46; }
        """

    /// Shows the copy buttons (hidden without JavaScript: the URLs stay selectable text) and
    /// copies the field a button names.
    static let copyScript: StaticString = """
        document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; b.addEventListener("click", function () { var f = document.getElementById(b.getAttribute("data-copy")); f.select(); if (navigator.clipboard) { navigator.clipboard.writeText(f.value); } else { document.execCommand("copy"); } b.textContent = b.getAttribute("data-done"); }); });
        """

    /// The policy every console answer carries: nothing from elsewhere, styles from our own
    /// sheet, the copy script by its hash, forms only back to us, never in a frame.
    static let contentSecurityPolicy: String = {
        let hash = Base64.encode(Digest.hash(.sha256, Array(copyScript.description.utf8)))
        let none = keyword("none"), this = keyword("self")
        return "default-src \(none); style-src \(this); img-src \(this); script-src \(keyword("sha256-" + hash)); form-action \(this); frame-ancestors \(none); base-uri \(none)"
    }()

    /// A policy keyword, quoted as CSP writes them (`'self'`).
    static func keyword(_ word: String) -> String { "'" + word + "'" }
}
