"""Screenshots of a report's sections as small PNGs (for docs and as test artifacts).

Each ``<section>`` of the page is shot on its own at a 1280 px wide layout. The
images are made small by rendering at a device scale below 1 (Chromium draws the
1280 px layout into fewer pixels), stepping the scale down until a PNG fits
``max_kb``; no image library is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .browser import _AUDIO_READY, _FIGURES_DRAWN, launch

SCALES = (0.75, 0.6, 0.5, 0.4, 0.32, 0.25)


def _shoot(browser: Any, url: str, out: Path, prefix: str, scale: float, only: set[str] | None,
           timeout_s: float) -> dict[str, Path]:
    """One pass at one device scale: every section (or those in ``only``) to ``out/<prefix><id>.png``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=scale)
    shots: dict[str, Path] = {}
    try:
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        page.goto(url, wait_until="load", timeout=timeout_s * 1000)
        page.wait_for_function(_FIGURES_DRAWN, timeout=timeout_s * 1000)
        page.wait_for_function(_AUDIO_READY, timeout=timeout_s * 1000)
        for element in page.query_selector_all("main > section, header"):
            sid = element.get_attribute("id") or "header"
            name = sid.removeprefix("sec-").replace("-", "_")
            if only is not None and name not in only:
                continue
            path = out / f"{prefix}{name}.png"
            element.screenshot(path=str(path))
            shots[name] = path
    finally:
        context.close()
    return shots


def section_screenshots(report: str | Path, out: str | Path, *, prefix: str = "report_", max_kb: float = 150.0,
                        browser: Any = None, timeout_s: float = 60.0) -> dict[str, Path]:
    """PNG of every section of ``report`` (and its header, as ``<prefix>header.png``) under ``out``, each
    under ``max_kb`` where some scale in :data:`SCALES` allows; returns ``{section: path}``."""
    from playwright.sync_api import sync_playwright

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    url = Path(report).resolve().as_uri()

    def run(b: Any) -> dict[str, Path]:
        shots: dict[str, Path] = {}
        todo: set[str] | None = None
        for scale in SCALES:
            shots.update(_shoot(b, url, out, prefix, scale, todo, timeout_s))
            todo = {name for name, p in shots.items() if p.stat().st_size > max_kb * 1024}
            if not todo:
                break
        return shots

    if browser is not None:
        return run(browser)
    with sync_playwright() as pw:
        own = launch(pw)
        try:
            return run(own)
        finally:
            own.close()
