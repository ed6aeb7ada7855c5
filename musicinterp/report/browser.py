"""Open a saved report in a real headless Chromium, offline, and check what it shows.

Used by the test suite and the size benchmark; also a quick way for a user to check
a report before taking it to an offline classroom. Needs the ``playwright`` Python
package (a dev dependency) and a system Chromium (``apt-get install chromium``);
no browser is downloaded.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MissingFileError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install one with `apt-get install chromium` (Debian/Ubuntu) and make sure it is on PATH"

_FIGURES_DRAWN = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
    .every(d => d.querySelector('svg.main-svg, canvas') !== null)"""
_AUDIO_READY = """() => Array.from(document.querySelectorAll('audio'))
    .every(a => a.readyState >= 1 || a.error !== null)"""
_AUDIO_STATE = """() => Array.from(document.querySelectorAll('audio'))
    .map(a => ({duration: a.duration, error: a.error ? a.error.code : null, src: a.src.slice(0, 40)}))"""
_FIGURE_STATE = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
    .map(d => ({id: d.id, drawn: d.querySelector('svg.main-svg, canvas') !== null,
                traces_with_data: (d.data || []).filter(t => ['x', 'y', 'z', 'values', 'cells']
                    .some(k => t[k] && (t[k].length > 0 || (t[k].bdata && t[k].bdata.length > 0)
                                        || (t[k].values && t[k].values.length > 0)))).length}))"""
# Text boxes of a figure that must not overlap: the title, annotations (subplot titles among them), axis titles,
# colour-bar titles, the legend and dropdown headers; tick labels are left out.
_TEXT_BOXES = "text.gtitle, g.annotation-text-g, g[class^='g-x'][class$='title'] text, " \
    "g[class^='g-y'][class$='title'] text, .cbtitle text, g.legend, g.updatemenu-header-group"
_OVERLAPS = """(sel) => {
  const out = [];
  document.querySelectorAll('.plotly-graph-div').forEach(d => {
    const boxes = Array.from(d.querySelectorAll(sel)).map(e => {
      const r = e.getBoundingClientRect();
      return {text: (e.textContent || e.getAttribute('class')).slice(0, 60), l: r.left, t: r.top, r: r.right, b: r.bottom};
    }).filter(b => b.r - b.l > 0 && b.b - b.t > 0 && b.text.trim() !== '');
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], c = boxes[j];
      if (Math.min(a.r, c.r) - Math.max(a.l, c.l) > 1 && Math.min(a.b, c.b) - Math.max(a.t, c.t) > 1)
        out.push({figure: d.id, a: a.text, b: c.text});
    }
  });
  return out;
}"""
_SCROLL = "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"


def find_chromium() -> str | None:
    """A Chromium/Chrome executable on PATH, or ``/usr/bin/chromium``; None when there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


@dataclass
class PageCheck:
    """What the browser saw: load time, errors, every request, each figure and audio element.

    ``load_s`` is wall time from navigation until every figure is drawn and every audio element
    has its metadata; ``cpu_s`` is the CPU time all browser processes spent meanwhile, which a
    busy machine does not inflate the way it inflates wall time.
    """

    load_s: float
    cpu_s: float = float("nan")
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    audio: list[dict] = field(default_factory=list)
    overlaps: list[dict] = field(default_factory=list)  # {figure, a, b}: two text boxes of a figure that overlap
    scroll_width: int = 0  # the page's scroll width against the viewport's client width
    client_width: int = 0
    screenshot: Path | None = None

    @property
    def empty_figures(self) -> list[str]:
        """Ids of figures with no trace holding data."""
        return [f["id"] for f in self.figures if not f.get("traces_with_data")]

    @property
    def horizontal_scroll(self) -> bool:
        return self.scroll_width > self.client_width

    @property
    def ok(self) -> bool:
        return (not self.console_errors and not self.blocked and all(f["drawn"] for f in self.figures)
                and all(a["error"] is None and a["duration"] > 0 for a in self.audio)
                and not self.empty_figures and not self.overlaps and not self.horizontal_scroll)


def launch(playwright: Any, executable: str | None = None) -> Any:
    """A headless system Chromium under a started ``sync_playwright()``."""
    executable = executable or find_chromium()
    if executable is None:
        raise MissingFileError(f"no Chromium or Chrome found; {INSTALL_HINT}")
    return playwright.chromium.launch(executable_path=executable, headless=True)


def _browser_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process's child processes (the browser's)."""
    import psutil

    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def _visit(browser: Any, page_url: str, check: PageCheck, allowed: Any, route: Any, screenshot: str | Path | None,
           timeout_s: float) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.on("console", lambda m: check.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: check.console_errors.append(f"page error: {e}"))
        page.on("dialog", lambda d: (check.console_errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("request", lambda r: check.requests.append(r.url))
        page.route("**/*", route)
        cpu0, t0 = _browser_cpu_s(), time.perf_counter()
        page.goto(page_url, wait_until="load", timeout=timeout_s * 1000)
        page.wait_for_function(_FIGURES_DRAWN, timeout=timeout_s * 1000)
        page.wait_for_function(_AUDIO_READY, timeout=timeout_s * 1000)
        check.load_s = time.perf_counter() - t0
        check.cpu_s = _browser_cpu_s() - cpu0
        check.figures = page.evaluate(_FIGURE_STATE)
        check.audio = page.evaluate(_AUDIO_STATE)
        check.overlaps = page.evaluate(_OVERLAPS, _TEXT_BOXES)
        check.scroll_width, check.client_width = page.evaluate(_SCROLL)
        check.blocked += [u for u in check.requests if not allowed(u) and u not in check.blocked]
        if screenshot is not None:
            check.screenshot = Path(screenshot)
            page.screenshot(path=str(check.screenshot), full_page=True)
    finally:
        context.close()


def check_report(path: str | Path, *, screenshot: str | Path | None = None, timeout_s: float = 60.0,
                 allow_sidecar: bool = False, executable: str | None = None, browser: Any = None) -> PageCheck:
    """Open ``path`` from disk with every network request refused; wait for figures and audio metadata.

    Allowed requests: the page itself, ``data:`` URLs and, with ``allow_sidecar``, files in the
    report's ``<stem>_files/`` folder. Anything else is aborted and listed in ``blocked``.
    ``browser`` reuses a launched Playwright browser (see :func:`launch`) instead of starting one.
    """
    from playwright.sync_api import sync_playwright

    path = Path(path).resolve()
    page_url = path.as_uri()
    sidecar = path.with_name(path.stem + "_files").as_uri() + "/"
    check = PageCheck(load_s=float("nan"))

    def allowed(url: str) -> bool:
        return url == page_url or url.startswith("data:") or (allow_sidecar and url.startswith(sidecar))

    def route(r) -> None:
        if allowed(r.request.url):
            r.continue_()
        else:
            check.blocked.append(r.request.url)
            r.abort()

    if browser is not None:
        _visit(browser, page_url, check, allowed, route, screenshot, timeout_s)
        return check
    with sync_playwright() as pw:
        own = launch(pw, executable)
        try:
            _visit(own, page_url, check, allowed, route, screenshot, timeout_s)
        finally:
            own.close()
    return check
