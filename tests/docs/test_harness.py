"""The docs harness itself: extraction, markers, expected errors, one namespace per page, cwd per page."""

from pathlib import Path

from .harness import check_replacements, parse_page, run_page

PAGE = '''# A page

<!-- test: replace "n=100" "n=2" -->
<!-- test: setup
hidden = 41
-->
```python
x = hidden + 1
n=100
```
text
<!-- test: expect-error ZeroDivisionError -->
```python
1 / 0
```
<!-- test: skip it would fail -->
```python
raise SystemExit(3)
```
```bash
echo made > made.txt
```
```python
assert x == 42 and n == 2
assert open("made.txt").read().strip() == "made"
```
<!-- test: needs-weights CheckpointNotFoundError -->
```bash
musicinterp info /nonexistent/musicgen-small
```
```text
not run
```
'''


def test_extraction_and_markers(tmp_path: Path):
    p = tmp_path / "page.md"
    p.write_text(PAGE)
    page = parse_page(p)
    assert [(b.line, b.lang) for b in page.blocks] == [(8, "python"), (14, "python"), (18, "python"),
                                                      (21, "bash"), (24, "python"), (29, "bash")]
    assert page.replacements == [("n=100", "n=2")]
    assert page.setup.strip() == "hidden = 41"
    assert page.blocks[1].mark("expect-error") == "ZeroDivisionError"
    assert page.blocks[2].mark("skip") == "it would fail" and page.blocks[0].mark("skip") is None
    assert check_replacements(page) == []


def test_a_page_runs_in_order_in_its_own_folder(tmp_path: Path):
    p = tmp_path / "page.md"
    p.write_text(PAGE)
    res = run_page(p, tmp_path / "run")
    assert [r["status"] for r in res.records] == ["passed", "expected-error", "skipped", "passed", "passed",
                                                  "expected-error"], res.summary() + str(res.failures)
    assert (tmp_path / "run" / "made.txt").exists()


def test_a_failure_names_the_page_line_and_stops_the_page(tmp_path: Path):
    p = tmp_path / "bad.md"
    p.write_text("```python\nok = 1\n```\n\n```python\n\nundefined_name\n```\n```bash\necho never\n```\n")
    res = run_page(p, tmp_path / "run")
    assert [r["status"] for r in res.records] == ["passed", "failed", "not run"]
    assert f'{p}", line 7' in res.failures[0]["detail"] and "NameError" in res.failures[0]["detail"]


def test_the_index_names_every_page():
    from .harness import ROOT

    index = (ROOT / "docs" / "index.md").read_text()
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "index.md" and f"docs/{p.name}" not in index]
    assert not missing, f"docs/index.md does not say what these pages answer: {missing}"


def test_pages_named_by_the_docs_exist():
    import re

    from .harness import ROOT, doc_pages

    named = {m for p in doc_pages() for m in re.findall(r"docs/[\w/-]+\.md", p.read_text())}
    assert [n for n in sorted(named) if not (ROOT / n).exists()] == []
