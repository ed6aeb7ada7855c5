"""Open reports in a real headless Chromium (the system one), offline, and check what renders."""

from pathlib import Path

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
        assert page.locator(column).all_inner_texts() == ["0.00", "0.50", "0.75"]
        page.click("table.mi-table th:nth-child(2)")
        assert page.locator(column).all_inner_texts() == ["0.75", "0.50", "0.00"]
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


def _views_report():
    """The report's kinds of figure as the demo builds them (subplot grids, dropdowns, error bars, folded table)."""
    import torch

    from musicinterp.probes import ProbeBank, ProbeConfig
    from musicinterp.report import Audio, Report
    from musicinterp.steering.monitor import MonitorTrace
    from musicinterp.views.codes import codes_pair_figure
    from musicinterp.views.probes import concept_grid
    from musicinterp.views.sae import feature_page
    from musicinterp.views.steering import monitor_trace_figure, success_vs_fidelity

    def bank(concept):
        n = 4 * 16
        acc = torch.linspace(0.5, 1.0, n)
        return ProbeBank(site="attn_z", concept=concept, pooling="mean", grid=(4, 16), weight=torch.zeros(n, 2),
                         bias=torch.zeros(n), val_acc=acc, val_auc=acc, train_acc=acc, config=ProbeConfig(),
                         normalize=False, n_train=10, n_val=5)

    page = {"feature": 7, "density": 0.05, "best_concept": "drums", "best_auc": 0.93,
            "hist_edges": [0.01, 0.1, 1.0, 10.0], "hist_counts": [3, 5, 2], "auc": {"drums": 0.93, "bass": 0.4},
            "top_clips": [{"clip_id": "c1", "pooled": 1.5, "activation": [0.0, 2.0, 1.0]}],
            "cosines": {"diffmeans": {"drums": 0.6}, "probe": {"drums": 0.4, "bass": -0.1}}}
    rows = [{"task": "continuation", "method": m, "strength": s, "success": p, "success_lo": p / 2,
             "success_hi": (1 + p) / 2, "nll_increase": s / 10, "validity": 1.0, "collateral": 0.05}
            for m in ("iti", "iti~random0") for s, p in ((1.0, 0.25), (2.0, 0.75))]
    trace = MonitorTrace(steps=list(range(20)), readings=[torch.tensor([0.05 * i]) for i in range(20)],
                         strengths=[torch.tensor([5.0 if i < 12 else 0.0]) for i in range(20)], tau=0.6, warmup=2)
    codes = torch.randint(0, 9, (4, 40))
    r = Report("views")
    r.add(concept_grid([bank(c) for c in ("lead", "drums", "brightness", "bass", "key")]), section="Probes")
    r.add(feature_page(page), section="SAE")
    r.add(success_vs_fidelity(rows, "continuation"), section="Comparison")
    r.add([{f"column_{i}": i / 7 for i in range(16)}] * 3, section="Comparison", title="wide")
    r.add(monitor_trace_figure(trace), section="Monitor")
    r.add(codes_pair_figure(codes, {"smitin": codes.roll(1, 1), "iti": codes}, 20, roles=["lead", "drums",
                            "brightness", "bass"], title="continuation 0"), section="Listen")
    r.add([Audio(tone(440), SR, "unsteered"), Audio(tone(660), SR, "smitin")], section="Listen")
    return r


def test_views_render_with_data_no_overlapping_text_and_no_sideways_scroll(tmp_path, browser):
    path = _views_report().save(tmp_path / "views.html")
    check = check_report(path, screenshot=tmp_path / "views.png", browser=browser)
    assert check.console_errors == [] and check.blocked == []
    assert len(check.figures) == 5 and check.empty_figures == []
    assert check.overlaps == []
    assert check.client_width > 1200 and not check.horizontal_scroll
    assert all(a["error"] is None and a["duration"] > 0 for a in check.audio) and check.ok


def test_overlaps_and_sideways_scroll_are_caught(tmp_path, browser):
    import plotly.graph_objects as go

    from musicinterp.report import Report

    fig = go.Figure(go.Scatter(y=[1, 2]), layout_xaxis_title_text="the time axis")
    fig.add_annotation(text="a note on the axis title", xref="paper", yref="paper", x=0.5, y=0, yanchor="top",
                       yshift=-32, showarrow=False)  # where plotly puts the x-axis title
    r = Report("bad")
    r.add(fig, section="S")
    r.add(go.Figure(go.Scatter(x=[], y=[])), section="S", title="empty")
    r.add("`" + "x" * 600 + "`", section="S")
    check = check_report(r.save(tmp_path / "bad.html"), browser=browser)
    assert check.empty_figures == ["fig-1"] and check.horizontal_scroll
    assert [(o["figure"], o["a"], o["b"]) for o in check.overlaps] == [
        ("fig-0", "the time axis", "a note on the axis title")] and not check.ok


DEMO_REPORT = Path(__file__).resolve().parents[2] / "musicinterp_out" / "report.html"


@pytest.mark.skipif(not DEMO_REPORT.is_file(), reason="run `make demo` first to check its report")
def test_the_demo_report_in_a_browser(browser):
    """The page ``make demo`` wrote: every figure drawn with data, no overlapping text, every audio element
    loaded, no sideways scroll at 1280 px, under 5 s; screenshots kept in musicinterp_out/test_artifacts/."""
    from musicinterp.report.screens import section_screenshots

    artifacts = DEMO_REPORT.parent / "test_artifacts"
    artifacts.mkdir(exist_ok=True)
    check = check_report(DEMO_REPORT, screenshot=artifacts / "report_full.png", browser=browser, allow_sidecar=True)
    shots = section_screenshots(DEMO_REPORT, artifacts, browser=browser)
    assert check.console_errors == [] and check.blocked == []
    assert check.figures and check.empty_figures == []
    assert check.overlaps == []
    assert check.audio and all(a["error"] is None and a["duration"] > 0 for a in check.audio)
    assert not check.horizontal_scroll and check.cpu_s < 5.0  # CPU time: wall time on a shared machine varies
    assert len(shots) >= 8 and all(p.stat().st_size > 1000 for p in shots.values())
