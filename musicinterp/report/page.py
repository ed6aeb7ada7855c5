"""The page around the report's items: style, table sorting, plotly's JavaScript, contents, full document.

All CSS is scoped under ``.mi-report`` so a report shown inside a notebook does not
restyle the notebook. Nothing here loads anything from the network.
"""

from __future__ import annotations

from functools import lru_cache

from .html import esc

CSS = """
.mi-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;max-width:1180px;
 margin:0 auto;padding:0 16px 48px;line-height:1.45}
.mi-report h1{font-size:1.7em;margin:0.6em 0 0.3em}
.mi-report h2{border-bottom:1px solid #d6dbe3;padding-bottom:4px;margin-top:2em}
.mi-report .mi-provenance{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1em}
.mi-report .mi-provenance th{text-align:left;padding:2px 12px 2px 0;color:#5a6372;font-weight:600;
 vertical-align:top;white-space:nowrap}
.mi-report .mi-provenance code{word-break:break-all}
.mi-report nav.mi-toc{background:#f5f7fa;border:1px solid #e1e5eb;border-radius:6px;padding:8px 18px;
 font-size:0.92em}
.mi-report nav.mi-toc ol{margin:4px 0;padding-left:20px}
.mi-report .mi-item{margin:1.4em 0}
.mi-report .mi-caption{color:#4a5260;font-size:0.92em;margin-top:0.3em}
.mi-report .mi-audio{display:inline-block;margin:4px 14px 8px 0;vertical-align:top}
.mi-report .mi-audio figcaption{font-size:0.85em;color:#4a5260}
.mi-report .mi-audio audio{display:block;width:260px}
.mi-report .mi-dur{font-size:0.75em;color:#8a93a2}
.mi-report .mi-table-wrap{overflow-x:auto;max-height:520px;overflow-y:auto}
.mi-report table.mi-table{border-collapse:collapse;font-size:0.88em}
.mi-report table.mi-table th{position:sticky;top:0;background:#eef1f5;cursor:pointer;user-select:none;
 padding:4px 10px;text-align:left;border-bottom:2px solid #c9d0da}
.mi-report table.mi-table th[data-dir=asc]::after{content:" \\25B2"}
.mi-report table.mi-table th[data-dir=desc]::after{content:" \\25BC"}
.mi-report table.mi-table td{padding:3px 10px;border-bottom:1px solid #edf0f4}
.mi-report table.mi-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.mi-report table.mi-table td.more{font-size:0.9em;color:#4a5260}
.mi-report table.mi-table td.more summary{cursor:pointer;white-space:nowrap}
.mi-report table.mi-table td.more dl{display:grid;grid-template-columns:max-content auto;gap:0 10px;margin:4px 0}
.mi-report table.mi-table td.more dt{color:#5a6372}
.mi-report table.mi-table td.more dd{margin:0;font-variant-numeric:tabular-nums}
.mi-report .mi-text p{margin:0.4em 0}
.mi-report .mi-summary{background:#f3f7fb;border-left:4px solid #4c78a8;padding:6px 16px;border-radius:4px}
.mi-report .mi-caption p{margin:0.3em 0}
.mi-report pre{background:#f5f7fa;padding:8px 12px;overflow-x:auto}
.mi-report .mi-note{color:#8a5a00;font-size:0.88em}
"""

# Click a header to sort by that column (again to reverse); values come from the table's JSON block,
# so numbers sort as numbers; empty cells (null) always go last.
SORT_JS = """
(function () {
  document.querySelectorAll("table.mi-table").forEach(function (t) {
    if (t.dataset.bound) { return; }
    t.dataset.bound = "1";
    var data = JSON.parse(document.getElementById(t.dataset.json).textContent);
    var body = t.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    t.querySelectorAll("th[data-col]").forEach(function (th) {
      th.addEventListener("click", function () {
        var c = Number(th.dataset.col), dir = th.dataset.dir === "asc" ? -1 : 1;
        t.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
        th.dataset.dir = dir > 0 ? "asc" : "desc";
        rows.sort(function (a, b) {
          var x = data.rows[Number(a.dataset.row)][c], y = data.rows[Number(b.dataset.row)][c];
          if (x === null || y === null) { return (x === null) - (y === null); }
          if (typeof x === "number" && typeof y === "number") { return dir * (x - y); }
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js, the exact bundle the installed plotly package ships (no CDN)."""
    import plotly.offline

    return plotly.offline.get_plotlyjs()


def plotly_script(notebook: bool = False) -> str:
    """plotly.js in one ``<script>``; in a notebook, hidden from require.js so it sets ``window.Plotly``."""
    if not notebook:
        return f'<script type="text/javascript">{plotly_js()}</script>'
    return ('<script type="text/javascript">window.__miDefine = window.define; window.define = undefined;</script>'
            f'<script type="text/javascript">{plotly_js()}</script>'
            '<script type="text/javascript">window.define = window.__miDefine;</script>')


def toc_html(sections: list[tuple[str, str, list[tuple[str, str]]]]) -> str:
    """Contents: ``(section anchor, section name, [(item anchor, item title)])`` as nested lists."""
    parts = []
    for anchor, name, items in sections:
        sub = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in items if t)
        parts.append(f'<li><a href="#{esc(anchor)}">{esc(name)}</a>' + (f"<ol>{sub}</ol>" if sub else "") + "</li>")
    return f'<nav class="mi-toc"><strong>Contents</strong><ol>{"".join(parts)}</ol></nav>'


def fragment(title: str, header: str, toc: str, body: str, notebook: bool = False) -> str:
    """Everything inside ``<body>``: also what a notebook displays."""
    return (f'<div class="mi-report"><style>{CSS}</style>\n{plotly_script(notebook) if notebook else ""}'
            f"<header><h1>{esc(title)}</h1>\n{header}</header>\n{toc}\n<main>\n{body}\n</main>\n"
            f"<script>{SORT_JS}</script></div>")


def document(title: str, header: str, toc: str, body: str) -> str:
    """A complete, self-contained HTML document: plotly.js inlined once in ``<head>``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n{plotly_script()}\n</head>\n<body>\n"
            f"{fragment(title, header, toc, body)}\n</body>\n</html>\n")
