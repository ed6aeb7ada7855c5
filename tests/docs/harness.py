"""Run the code of a documentation page as written.

A page's fenced ```python and ```bash blocks run in order, in one fresh process per page whose working
directory is an empty folder of its own: Python blocks share one namespace (top-level expressions are
``repr``'d, as a notebook would show them; ``fig.show()`` only builds the figure), bash blocks run with
``bash -e`` in the same folder with the project's ``musicinterp``/``python``/``accelerate`` first on PATH.
The folder holds links to the repository's ``data_manifests/`` and ``benchmarks/``, so repo-relative paths
in the docs work as written.

Markers are HTML comments, invisible when the page is rendered:

- ``<!-- test: replace "OLD" "NEW" -->`` anywhere on a page: every block of the page runs with OLD replaced
  by NEW (smaller sizes for the test run). A replacement that matches nothing fails the page, so stale
  markers are found.
- On the line(s) right before a fence, for that block only:
  ``<!-- test: needs-gpu ErrorName -->`` / ``<!-- test: needs-weights ErrorName -->``: without a GPU
  (without the weights) the block must fail with that error (an exception of that class, or a command
  exiting non-zero with the name in its output); with no ErrorName it is skipped with the reason.
  ``<!-- test: expect-error ErrorName -->``: the block must fail with that error on any machine.
  ``<!-- test: skip REASON -->``: not run (use sparingly, always with a reason).
  ``<!-- test: timeout SECONDS -->``: a longer limit for one block (default 300 s).
  ``<!-- test: file NAME -->``: the block is a script the page runs later: it is written to NAME (with the
  page's replacements), not run.
- ``<!-- test: setup`` ... ``-->`` (a comment whose first line is ``test: setup``): hidden Python run
  before the page's first block, for what the reader's machine already has (e.g. a fake cache).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGS = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash", "json": "json"}
MARK = re.compile(r"<!--\s*test:\s*(.*?)\s*-->", re.S)
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
DEFAULT_TIMEOUT = 300
LINKED = ("data_manifests", "benchmarks")


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the first code line (the line after the opening fence)
    lang: str
    code: str
    marks: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"

    def mark(self, kind: str) -> str | None:
        """The argument of this block's marker ``kind`` ('' if it has none), or None when unmarked."""
        for m in self.marks:
            head, _, rest = m.partition(" ")
            if head == kind:
                return rest.strip()
        return None


@dataclass
class Page:
    path: str
    blocks: list[Block]
    replacements: list[tuple[str, str]]
    setup: str = ""


def _parse_marker_args(text: str) -> list[str]:
    return shlex.split(text)


def parse_page(path: Path, root: Path = ROOT) -> Page:
    """Every runnable block of a markdown page, with its markers and the page's replacements."""
    rel = str(path.resolve().relative_to(root)) if path.resolve().is_relative_to(root) else str(path)
    text = path.read_text()
    lines = text.splitlines()
    replacements: list[tuple[str, str]] = []
    setup_parts: list[str] = []
    blocks: list[Block] = []
    pending: list[str] = []  # markers waiting for the next fence
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("<!--"):
            # gather a whole (possibly multi-line) comment; code inside a comment never runs as a block
            j = i
            chunk = line
            while "-->" not in chunk and j + 1 < len(lines):
                j += 1
                chunk += "\n" + lines[j]
            for m in MARK.finditer(chunk):
                body = m.group(1)
                head, _, rest = body.partition("\n") if body.startswith("setup") else (body, "", "")
                if head.strip() == "setup":
                    setup_parts.append(rest)
                elif body.startswith("replace"):
                    args = _parse_marker_args(body[len("replace"):])
                    if len(args) != 2:
                        raise ValueError(f"{rel}:{i + 1}: replace takes two quoted strings, got {body!r}")
                    replacements.append((args[0], args[1]))
                else:
                    pending.append(" ".join(body.split()))
            i = j + 1
            continue
        fence = FENCE.match(line)
        if fence:
            indent, ticks, lang = fence.groups()
            body_lines = []
            j = i + 1
            while j < len(lines) and not (lines[j].strip().startswith(ticks) and lines[j].strip() == ticks):
                body_lines.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
                j += 1
            if lang.lower() in LANGS:
                blocks.append(Block(rel, i + 2, LANGS[lang.lower()], "\n".join(body_lines) + "\n", pending))
            pending = []
            i = j + 1
            continue
        if stripped:
            pending = []  # markers apply only to the fence right after them
        i += 1
    return Page(rel, blocks, replacements, "\n".join(setup_parts))


def doc_pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# ---------------------------------------------------------------------------------------------- the child


def _error_matches(exc: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def _run_python(code: str, line: int, filename: str, ns: dict) -> None:
    padded = "\n" * (line - 1) + code  # tracebacks then name the markdown page's own line numbers
    tree = ast.parse(padded, filename)
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), filename, "eval"), ns)
            if value is not None:
                repr(value)  # what a notebook would show must not fail
        else:
            exec(compile(ast.Module([stmt], type_ignores=[]), filename, "exec"), ns)


def _child_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def _quiet_figures() -> None:
    try:
        import plotly.basedatatypes as bd
    except ImportError:
        return
    bd.BaseFigure.show = lambda self, *a, **k: self.to_dict()  # build the figure, open nothing


def run_page_here(page: Page, out: Path) -> None:
    """Run a page's blocks in this process (cwd is the page's folder); one JSON line per block into ``out``."""
    import torch

    have_gpu = torch.cuda.is_available()
    _quiet_figures()
    ns: dict = {"__name__": "__main__"}
    records = []
    if page.setup:
        exec(compile(page.setup, f"{page.path}:setup", "exec"), ns)
    failed = False
    for block in page.blocks:
        code = block.code
        for old, new in page.replacements:
            code = code.replace(old, new)
        rec = {"block": block.name, "lang": block.lang, "status": "passed", "detail": "", "seconds": 0.0}
        expect = block.mark("expect-error")
        reason = block.mark("skip")
        for kind, missing in (("needs-gpu", not have_gpu), ("needs-weights", True)):
            arg = block.mark(kind)
            if arg is not None and missing and expect is None:
                if arg:
                    expect = arg
                elif reason is None:
                    reason = kind
        target = block.mark("file")
        if failed:
            rec.update(status="not run", detail="an earlier block failed")
        elif target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(code)
            rec.update(status="written", detail=target)
        elif reason is not None:
            rec.update(status="skipped", detail=reason or "skip")
        else:
            t0 = time.perf_counter()
            timeout = float(block.mark("timeout") or DEFAULT_TIMEOUT)
            if block.lang == "json":  # an example, not run: it must parse
                try:
                    json.loads(code)
                except ValueError as exc:
                    rec.update(status="failed", detail=f"not valid JSON: {exc}")
            elif block.lang == "python":
                try:
                    _run_python(code, block.line, block.page, ns)
                    err = None
                except BaseException as exc:  # noqa: BLE001 - reported
                    err = exc
                    tb = traceback.format_exc(limit=-8)
                if expect:
                    if err is None:
                        rec.update(status="failed", detail=f"expected {expect}, but the block ran")
                    elif _error_matches(err, expect):
                        rec.update(status="expected-error", detail=f"{type(err).__name__}: {err}"[:400])
                    else:
                        rec.update(status="failed", detail=f"expected {expect}, got:\n{tb}")
                elif err is not None:
                    rec.update(status="failed", detail=tb)
            else:
                try:
                    proc = subprocess.run(["bash", "-e", "-c", code], env=_child_env(), capture_output=True,
                                          text=True, timeout=timeout)
                    rc, output = proc.returncode, proc.stdout + proc.stderr
                except subprocess.TimeoutExpired as exc:
                    rc, output = 124, f"timed out after {timeout:.0f} s\n{exc.stdout or ''}{exc.stderr or ''}"
                tail = output[-3000:]
                if expect:
                    if rc == 0:
                        rec.update(status="failed", detail=f"expected {expect}, but the commands succeeded")
                    elif expect in output:
                        rec.update(status="expected-error", detail=tail[-400:])
                    else:
                        rec.update(status="failed", detail=f"expected {expect}, got exit {rc}:\n{tail}")
                elif rc != 0:
                    rec.update(status="failed", detail=f"exit {rc}:\n{tail}")
            rec["seconds"] = round(time.perf_counter() - t0, 2)
            failed = rec["status"] == "failed"
        records.append(rec)
        with open(out, "a") as fh:
            fh.write(json.dumps(rec) + "\n")


def _child_main(page_path: str, out: str) -> None:
    sys.path.insert(0, str(ROOT))
    page = parse_page(Path(page_path))
    run_page_here(page, Path(out))


# --------------------------------------------------------------------------------------------- the parent


@dataclass
class PageResult:
    page: str
    records: list[dict]
    seconds: float
    stderr: str

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.records if r["status"] == "failed"]

    def summary(self) -> str:
        rows = [f"{r['block']:<28} {r['lang']:<6} {r['status']:<15} {r['seconds']:>6.1f}s" for r in self.records]
        return "\n".join(rows)


def check_replacements(page: Page) -> list[str]:
    """Replacements that match no block of the page (stale markers)."""
    return [old for old, _ in page.replacements if not any(old in b.code for b in page.blocks)]


def run_page(path: Path, workdir: Path, timeout: float = 900) -> PageResult:
    """Run one page in a fresh process with ``workdir`` as its working directory."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = workdir / name
        if not link.exists() and (ROOT / name).exists():
            link.symlink_to(ROOT / name)
    out = workdir / ".doc_results.jsonl"
    out.unlink(missing_ok=True)
    page = parse_page(path)
    cmd = [sys.executable, "-c",
           f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.docs.harness import _child_main; "
           f"_child_main({str(path)!r}, {str(out)!r})"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=_child_env(), capture_output=True, text=True, timeout=timeout)
        stderr = proc.stderr
    except subprocess.TimeoutExpired as exc:
        stderr = f"page timed out after {timeout:.0f} s\n{exc.stderr or ''}"
    seconds = time.perf_counter() - t0
    records = [json.loads(ln) for ln in out.read_text().splitlines()] if out.exists() else []
    done = {r["block"] for r in records}
    for block in page.blocks:
        if block.name not in done:  # the process died or timed out in this block
            records.append({"block": block.name, "lang": block.lang, "status": "failed",
                            "detail": f"the page's process ended here:\n{stderr[-3000:]}", "seconds": 0.0})
            break
    return PageResult(page.path, records, seconds, stderr)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.docs.harness [PAGE ...] [--keep DIR]``: run pages and print a table per page."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("pages", nargs="*")
    ap.add_argument("--keep", help="run in DIR/<page> and keep the folders")
    args = ap.parse_args(argv)
    pages = [Path(p).resolve() for p in args.pages] or doc_pages()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="docs-"))
    bad = 0
    for p in pages:
        res = run_page(p, base / p.stem)
        print(f"== {res.page} ({res.seconds:.1f} s)\n{res.summary()}")
        for r in res.failures:
            bad += 1
            print(f"-- {r['block']}\n{r['detail']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
