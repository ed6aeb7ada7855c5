"""The course notebooks: stored clean, written against the public API, and runnable top to bottom on CPU.

Conventions every course notebook follows (checked here):

* an exercise's solution is a code cell tagged ``solution`` whose metadata hides its source
  (``{"jupyter": {"source_hidden": true}, "tags": ["solution"]}``); it sets the answer, so the
  notebook runs top to bottom;
* the exercise's check is the first code cell after the solution that ``assert``s, and it
  ends by printing its verdict (so a run shows the check went through to its end);
* no cell carries nbclient's ``raises-exception`` tag: every error stops the run;
* notebooks are committed with outputs and execution counts stripped;
* code cells use ``import musicinterp as mi`` only (no ``from musicinterp.x import ...``).

Run the slow ones in parallel with ``pytest -m slow -n 2 tests/notebooks``.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
DEEP_IMPORT = re.compile(r"^\s*(from\s+musicinterp[.\w]*\s+import|import\s+musicinterp\.)", re.MULTILINE)


def _code_cells(nb) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_checks(nb) -> list[tuple[int, int]]:
    """``(solution index, check index)`` for every solution cell; check index is -1 when none follows."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "solution" not in _tags(cell):
            continue
        check = next((j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"
                      and re.search(r"^\s*assert\b", nb.cells[j].source, re.MULTILINE)), -1)
        pairs.append((i, check))
    return pairs


def _ends_in_print(source: str) -> bool:
    body = ast.parse(source).body
    last = body[-1] if body else None
    return (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Name) and last.value.func.id == "print")


def _tracked_notebooks() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z", "--", "notebooks/*.ipynb"], cwd=ROOT, capture_output=True,
                         check=True).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


# ------------------------------------------------------------------ fast: the files as stored
def test_tracked_notebooks_are_stripped():
    """Committed notebooks carry no outputs and no execution counts (strip before committing)."""
    tracked = _tracked_notebooks()
    assert tracked, "no notebooks tracked under notebooks/"
    dirty = []
    for path in tracked:
        nb = nbformat.read(path, as_version=4)
        for i, cell in _code_cells(nb):
            if cell.get("outputs") or cell.get("execution_count") is not None:
                dirty.append(f"{path.name} cell {i}")
    assert not dirty, ("notebooks stored with outputs; run `jupyter nbconvert --clear-output --inplace` on: "
                       + ", ".join(dirty))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_uses_public_api_only(path):
    nb = nbformat.read(path, as_version=4)
    deep = [f"cell {i}: {m.group(0).strip()}" for i, c in _code_cells(nb) for m in DEEP_IMPORT.finditer(c.source)]
    assert not deep, f"{path.name} imports below the public API (use `import musicinterp as mi`): {deep}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_a_checked_exercise(path):
    nb = nbformat.read(path, as_version=4)
    pairs = exercise_checks(nb)
    assert pairs, f"{path.name} has no exercise solution cell (tag 'solution')"
    for sol, check in pairs:
        meta = nb.cells[sol].metadata
        assert meta.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {sol}: solution not hidden"
        assert check > sol, f"{path.name}: no assert cell checks the solution in cell {sol}"
        last = nb.cells[check].source.rstrip().splitlines()[-1]
        assert _ends_in_print(nb.cells[check].source), (
            f"{path.name} cell {check}: a check cell ends by printing its verdict, not {last!r}")
    assert nb.cells[0].cell_type == "markdown", f"{path.name} should open with a markdown introduction"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_cell_is_allowed_to_fail(path):
    """nbclient runs past an error in a cell tagged ``raises-exception``: a failing check would go unnoticed."""
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in _code_cells(nb) if "raises-exception" in _tags(c)]
    assert not tagged, f"{path.name}: cells {tagged} are tagged raises-exception"


# ------------------------------------------------------------------ slow: execute
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell (none may be tagged raises-exception)

    code = _code_cells(nb)
    assert code, f"{path.name} has no code cells"
    skipped = [i for i, c in code if c.get("execution_count") is None]
    assert not skipped, f"{path.name}: code cells {skipped} were not executed"
    counts = [c.execution_count for _, c in code]
    assert counts == sorted(counts) and len(set(counts)) == len(counts), f"{path.name} ran out of order: {counts}"

    pairs = exercise_checks(nb)
    assert pairs, f"{path.name} has no exercise"
    for _sol, check in pairs:
        cell = nb.cells[check]
        assert cell.get("execution_count") is not None, f"{path.name}: check cell {check} did not run"
        printed = "".join(o.get("text", "") for o in cell.get("outputs", [])
                          if o.get("output_type") == "stream" and o.get("name") == "stdout")
        assert printed.strip(), f"{path.name}: check cell {check} printed no verdict (did it run to its end?)"
