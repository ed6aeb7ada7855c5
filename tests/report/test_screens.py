"""Section screenshots: one small PNG per section of a saved report."""

import pytest

from musicinterp.report.browser import INSTALL_HINT, find_chromium

from .conftest import sample_report

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is a dev dependency")
pytestmark = pytest.mark.skipif(find_chromium() is None, reason=f"no Chromium/Chrome on this machine; {INSTALL_HINT}")


def test_every_section_and_the_header_as_a_small_png(tmp_path):
    from musicinterp.report.screens import section_screenshots

    path = sample_report().save(tmp_path / "r.html")
    shots = section_screenshots(path, tmp_path / "img", max_kb=40)
    assert sorted(shots) == ["audio", "figures", "header", "intro", "tables"]
    for name, png in shots.items():
        assert png.name == f"report_{name}.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size < 40 * 1024
