"""docs/results.md is what benchmarks/results_page.py makes of the committed benchmark JSON (never hand-edited)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _page_module():
    spec = importlib.util.spec_from_file_location("results_page", ROOT / "benchmarks" / "results_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_page_matches_the_committed_json():
    page = _page_module()
    assert (ROOT / "docs" / "results.md").read_text() == page.render_page(), \
        "docs/results.md is stale: run `python benchmarks/results_page.py`"


def test_numbers_are_formatted_with_three_significant_digits_and_intervals():
    page = _page_module()
    assert page.fmt(0.057000000029802322) == "0.057" and page.fmt(65527.9) == "6.55e+04" and page.fmt(3) == "3"
    assert page.fmt({"value": 0.5962, "low": 0.5239, "high": 0.6812}) == "0.596 [0.524, 0.681]"
    assert page.flat({"a": {"b": 1.5, "_command": "x"}, "c": [1, 2]}) == [("a.b", 1.5), ("c", [1, 2])]


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_bytes()) <= 15 * 1024
