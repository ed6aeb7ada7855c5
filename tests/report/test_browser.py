"""Open reports in a real headless Chromium (the system one), offline, and check what renders."""

import pytest

from musicinterp.report.browser import INSTALL_HINT, check_report, find_chromium, launch

from .conftest import SR, sample_report, tone

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is a dev dependency")
BROWSER = find_chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason=f"no Chromium/Chrome on this machine; {INSTALL_HINT}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw, BROWSER)
        yield b
        b.close()


def test_report_renders_offline(tmp_path, browser):
    report = sample_report()
    report.add([{"cell": "</script><script>alert(1)</script>"}], section="Tables", title="hostile cell")
    path = report.save(tmp_path / "report.html")
    shot = tmp_path / "report.png"
    check = check_report(path, screenshot=shot, browser=browser)
    assert check.console_errors == []
    assert check.requests == [path.resolve().as_uri()]  # the page itself and nothing else
    assert check.blocked == []
    assert [f["id"] for f in check.figures] == ["fig-1", "fig-2", "fig-3"]
    assert all(f["drawn"] for f in check.figures)
    assert [a["error"] for a in check.audio] == [None, None]
    assert [round(a["duration"], 3) for a in check.audio] == [0.5, 0.25]
    assert shot.stat().st_size > 10_000 and check.ok


def test_sidecar_audio_plays_from_beside_the_page(tmp_path, browser):
    report = sample_report(audio_budget_mb=0.001)
    report.add([(tone(330, 0.75), SR)], section="Audio", title="long")
    path = report.save(tmp_path / "r.html")
    check = check_report(path, browser=browser, allow_sidecar=True)
    assert check.console_errors == [] and check.blocked == []
    assert [round(a["duration"], 3) for a in check.audio] == [0.5, 0.25, 0.75]
    assert sum(u.startswith(path.with_name("r_files").as_uri()) for u in check.requests) >= 3


def test_network_requests_are_caught(tmp_path, browser):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script>'
                    '<img src="http://example.com/x.png"></body></html>')
    check = check_report(page, browser=browser)
    assert sorted(check.blocked) == ["http://example.com/x.png", "https://cdn.plot.ly/plotly-3.0.0.min.js"]
    assert not check.ok


def test_table_sorts_by_number_on_click(tmp_path, browser):
    path = sample_report().save(tmp_path / "r.html")
    page = browser.new_page()
    try:
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto(path.as_uri())
        column = "table.mi-table tbody tr td:nth-child(2)"
        page.click("table.mi-table th:nth-child(2)")  # success, ascending
        assert page.locator(column).all_inner_texts() == ["0", "0.5", "0.75"]
        page.click("table.mi-table th:nth-child(2)")
        assert page.locator(column).all_inner_texts() == ["0.75", "0.5", "0"]
        page.click("table.mi-table th:nth-child(3)")  # nll ascending: the empty cell goes last
        assert page.locator("table.mi-table tbody tr td:nth-child(1)").all_inner_texts() == [
            "iti", "smitin", "none"]
    finally:
        page.close()


def test_notebook_fragment_draws_twice_beside_requirejs(tmp_path, browser):
    """As in Jupyter: two displays of a report in one page that has an AMD ``define`` (require.js)."""
    report = sample_report()
    page_html = ("<html><head><script>window.define = function () {}; window.define.amd = {};</script></head><body>"
                 f"{report._repr_html_()}{report._repr_html_()}</body></html>")
    path = tmp_path / "notebook.html"
    path.write_text(page_html)
    check = check_report(path, browser=browser)
    assert check.console_errors == [] and check.blocked == []
    assert len(check.figures) == 6 and all(f["drawn"] for f in check.figures)
    assert [round(a["duration"], 2) for a in check.audio] == [0.5, 0.25, 0.5, 0.25]
