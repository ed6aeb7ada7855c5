"""The course notebooks: stored clean, written against the public API, and runnable top to bottom on CPU.

Conventions every course notebook follows (checked here):

* an exercise's solution is a code cell tagged ``solution`` whose metadata hides its source
  (``{"jupyter": {"source_hidden": true}, "tags": ["solution"]}``); it sets the answer, so the
  notebook runs top to bottom;
* the exercise's check is the first code cell after the solution that ``assert``s;
* notebooks are committed with outputs and execution counts stripped;
* code cells use ``import musicinterp as mi`` only (no ``from musicinterp.x import ...``).

Run the slow ones in parallel with ``pytest -m slow -n 2 tests/notebooks``.
"""

from __future__ import annotations

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
    assert nb.cells[0].cell_type == "markdown", f"{path.name} should open with a markdown introduction"


# ------------------------------------------------------------------ slow: execute
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    code = _code_cells(nb)
    assert code, f"{path.name} has no code cells"
    skipped = [i for i, c in code if c.get("execution_count") is None]
    assert not skipped, f"{path.name}: code cells {skipped} were not executed"
    counts = [c.execution_count for _, c in code]
    assert counts == sorted(counts) and len(set(counts)) == len(counts), f"{path.name} ran out of order: {counts}"

    pairs = exercise_checks(nb)
    assert pairs, f"{path.name} has no exercise"
    for sol, check in pairs:
        cell = nb.cells[check]
        assert cell.get("execution_count") is not None, f"{path.name}: check cell {check} did not run"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{path.name}: check cell {check} failed: {errors[0].get('ename')}"
