"""Docs that run: every Python block and every command of README.md and docs/*.md, page by page, in order.

Each page runs in a fresh process in a folder of its own (``tests/docs/harness.py`` says how, and which
markers a page may carry). A failure names the page and the line of the block. Run one page by hand with
``python -m tests.docs.harness docs/howto.md --keep DOCS_RUN`` (DOCS_RUN: any empty folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import ROOT, check_replacements, doc_pages, parse_page, run_page

# Pages whose run takes long enough to matter (collection, generation, CLI start-ups); `-m "not slow"` skips them.
SLOW = {"docs/howto.md", "docs/howto-distributed.md", "docs/sae.md", "docs/ablation.md", "README.md"}
PAGES = [str(p.relative_to(ROOT)) for p in doc_pages()]
# Pages whose owners have been told what fails and what marker or fix it needs; remove the entry once fixed.
# run=False where running it would cost minutes before failing.
KNOWN_FAILURES: dict[str, tuple[str, bool]] = {}


def _param(page: str):
    marks = [pytest.mark.slow] if page in SLOW else []
    if page in KNOWN_FAILURES:
        reason, run = KNOWN_FAILURES[page]
        marks.append(pytest.mark.xfail(reason=reason, run=run, strict=False))
    return pytest.param(page, id=page, marks=marks)


def test_every_page_parses_and_its_markers_match():
    for page in PAGES:
        parsed = parse_page(ROOT / page)
        stale = check_replacements(parsed)
        assert not stale, f"{page}: test replacements that match no block: {stale}"
        for block in parsed.blocks:
            for mark in block.marks:
                kind = mark.split(" ", 1)[0]
                assert kind in {"needs-gpu", "needs-weights", "expect-error", "skip", "timeout", "file"}, \
                    f"{block.name}: unknown marker {mark!r}"
                if kind == "skip":
                    assert len(mark.split()) > 2, f"{block.name}: a skip needs its reason"


@pytest.mark.parametrize("page", [_param(p) for p in PAGES])
def test_page_runs_as_written(page: str, tmp_path: Path):
    parsed = parse_page(ROOT / page)
    if not parsed.blocks:
        pytest.skip(f"{page} has no code blocks")
    res = run_page(ROOT / page, tmp_path / Path(page).stem)
    failures = res.failures
    assert not failures, f"{page} ({res.seconds:.0f} s):\n{res.summary()}\n\n" + "\n\n".join(
        f"-- {r['block']} ({r['lang']})\n{r['detail']}" for r in failures)
    assert len(res.records) == len(parsed.blocks)
