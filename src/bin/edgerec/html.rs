//! The self-contained HTML pages the CLI writes (`report`, `rollout`,
//! `drift`): one style, escaping, and the page shell.

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.na{color:#999}.up{background:#e6f4ea}.down{background:#fbe9e7}.flat{background:#f5f5f5}.s{color:#666;font-size:12px}.t{font-size:13px;font-weight:600}.k{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}.charts svg{width:48%;min-width:320px;border:1px solid #eee;margin:4px}";

/// A whole page: `title` (escaped here) and `body` (HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>{}</title>\n<style>{STYLE}</style>\n{body}</html>\n",
        esc(title)
    )
}
