"""The house figures: how the package is shaped, against the targets ``tests/test_structure.py`` asserts.

Figures (each with its offenders):

* ``package_cycles``: import cycles between the packages of ``musicinterp/`` (each
  subpackage and each loose top-level module is one node, the root ``__init__`` another),
  counting imports inside functions, not those under ``if TYPE_CHECKING:``; relative
  imports resolved. Counted as strongly connected groups of packages. Target 0.
* ``organism_references``: lines outside ``musicinterp/organism/``,
  ``musicinterp/models/sources.py`` and the root ``__init__`` that import the organism
  package or test a model's source for ``"organism"``. Target 0.
* ``loose_modules``: modules loose at the top of ``musicinterp/`` (``__init__``,
  ``__main__`` and ``_version`` not counted). Target at most 4.
* ``long_modules`` / ``long_functions``: modules over 300 lines, functions over 60.
  Target 0 each.
* ``exports``: ``len(musicinterp.__all__)``. Target at most 60.
* ``unrooted_errors`` / ``undocumented_errors``: exported error classes (in the root's
  or a subpackage's ``__all__``) that do not derive from ``MusicInterpError``, or have no
  heading of their own in ``docs/errors.md``. Target 0 each.
* ``untested_modules``: modules with no mirror test module (``musicinterp/a/b.py`` ->
  ``tests/a/test_b.py``) that are not in :data:`MIRROR_EXEMPT`. Target 0.

    python benchmarks/structure.py      # summary lines, then the figures as JSON on the last line
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "musicinterp"

TARGETS = {"package_cycles": 0, "organism_references": 0, "loose_modules": 4, "long_modules": 0,
           "long_functions": 0, "exports": 60, "unrooted_errors": 0, "undocumented_errors": 0,
           "untested_modules": 0}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
LOOSE_NOT_COUNTED = ("__init__.py", "__main__.py", "_version.py")

# Modules a mirror test module would make no sense for, each with the reason.
MIRROR_EXEMPT = {
    "musicinterp/__main__.py": "the `python -m musicinterp` entry point: hands over to cli.main (tests/cli)",
    "musicinterp/_version.py": "one version string, no behaviour",
}

ORGANISM_ALLOWED = ("musicinterp/organism/", "musicinterp/models/sources.py", "musicinterp/__init__.py")
ORGANISM_PATTERNS = [re.compile(p) for p in (
    r"""source\s*[!=]=\s*['"]organism['"]""",
    r"""['"]organism['"]\s*[!=]=\s*\S*source\b""",
    r"from\s+\.+organism\b",
    r"musicinterp\.organism\b",
    r"\bimport\s+organism\b",
)]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """Every import statement below ``node``, skipping the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.orelse:
                yield from _import_nodes_of(stmt)
            continue
        yield from _import_nodes_of(child)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    yield from _import_nodes(node)


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """``(module, line)`` for each package module ``name`` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
        found += [(t, node.lineno) for t in (subs if len(subs) == len(node.names) else [base, *subs])]
    return [(m, line) for m, line in found if m in modules]


def package_of(module: str) -> str:
    """``musicinterp.a.b`` -> ``a``; loose ``musicinterp.x`` -> ``x``; the root -> ``musicinterp``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph() -> dict[str, dict[str, str]]:
    """package -> {imported package: where (first ``file:line`` seen)}."""
    modules = module_files()
    graph: dict[str, dict[str, str]] = {package_of(m): {} for m in modules}
    for name, path in modules.items():
        src = package_of(name)
        for target, line in imported_modules(name, path, modules):
            dst = package_of(target)
            if dst != src:
                graph[src].setdefault(dst, f"{_rel(path)}:{line}")
    return graph


def _strongly_connected(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [g for g in groups if len(g) > 1]


def package_cycles() -> list[dict[str, object]]:
    """Each group of packages that import one another in a cycle, with the imports that close it."""
    graph = package_graph()
    out = []
    for group in _strongly_connected(graph):
        edges = [f"{a} -> {b} ({graph[a][b]})" for a in group for b in sorted(graph[a]) if b in group]
        out.append({"packages": group, "imports": edges})
    return out


def organism_references() -> list[str]:
    """``file:line: text`` of each organism import or organism source test outside the allowed places."""
    hits = []
    for path in sorted(PKG.rglob("*.py")):
        rel = _rel(path)
        if rel.startswith(ORGANISM_ALLOWED):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if any(p.search(line) for p in ORGANISM_PATTERNS):
                hits.append(f"{rel}:{i}: {line.strip()}")
    return hits


def loose_modules() -> list[str]:
    return [p.name for p in sorted(PKG.glob("*.py")) if p.name not in LOOSE_NOT_COUNTED]


def long_modules() -> list[str]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        n = len(path.read_text().splitlines())
        if n > MAX_MODULE_LINES:
            out.append(f"{_rel(path)} ({n} lines)")
    return out


def _functions(node: ast.AST, prefix: str = ""):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qual = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield qual, child
            yield from _functions(child, qual + ".")
        else:
            yield from _functions(child, prefix)


def long_functions() -> list[str]:
    """``file:line name (N lines)`` for each function (``def`` line to its last line) over the limit."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        for qual, fn in _functions(ast.parse(path.read_text(), str(path))):
            n = fn.end_lineno - fn.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out.append(f"{_rel(path)}:{fn.lineno} {qual} ({n} lines)")
    return out


def exports() -> list[str]:
    return list(importlib.import_module("musicinterp").__all__)


def exported_errors() -> dict[str, type]:
    """``where.Name`` -> class for every Exception subclass in the root's or a subpackage's ``__all__``."""
    packages = ["musicinterp"] + [m for m, p in module_files().items() if p.name == "__init__.py" and "." in m]
    out = {}
    for pkg in packages:
        mod = importlib.import_module(pkg)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                out[f"{pkg}.{name}"] = obj
    return out


def unrooted_errors() -> list[str]:
    root = importlib.import_module("musicinterp.errors").MusicInterpError
    return sorted({f"{c.__module__}.{c.__qualname__}" for c in exported_errors().values()
                   if not issubclass(c, root)})


def undocumented_errors(doc: Path = ROOT / "docs" / "errors.md") -> list[str]:
    headings = [line for line in doc.read_text().splitlines() if line.lstrip().startswith("#")] if doc.exists() else []
    names = sorted({c.__name__ for c in exported_errors().values()})
    return [n for n in names if not any(re.search(rf"\b{re.escape(n)}\b", h) for h in headings)]


def mirror_test(path: Path) -> Path:
    """The test module that mirrors ``musicinterp/a/b.py``: ``tests/a/test_b.py``."""
    rel = path.relative_to(PKG)
    return ROOT / "tests" / rel.parent / f"test_{rel.name}"


def untested_modules() -> list[str]:
    """Modules without a mirror test module and not exempt; stale exemptions are listed too."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = _rel(path)
        if path.name == "__init__.py" or rel in MIRROR_EXEMPT:
            continue
        if not mirror_test(path).exists():
            out.append(rel)
    out += [f"{rel} (exempt, but no such module)" for rel in MIRROR_EXEMPT if not (ROOT / rel).exists()]
    return out


FIGURES = {"package_cycles": package_cycles, "organism_references": organism_references,
           "loose_modules": loose_modules, "long_modules": long_modules, "long_functions": long_functions,
           "exports": exports, "unrooted_errors": unrooted_errors, "undocumented_errors": undocumented_errors,
           "untested_modules": untested_modules}


def figures() -> dict[str, object]:
    """Every figure (``None`` where it could not be computed, e.g. the package fails to import)."""
    found, out = {}, {}
    for name, compute in FIGURES.items():
        try:
            found[name] = compute()
            out[name] = len(found[name])
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be computed is reported, not fatal
            found[name], out[name] = [f"could not compute: {type(exc).__name__}: {exc}"], None
    out["met"] = {name: out[name] is not None and out[name] <= limit for name, limit in TARGETS.items()}
    out["targets"] = TARGETS
    out["offenders"] = {name: items for name, items in found.items() if name != "exports" and items}
    out["mirror_exempt"] = MIRROR_EXEMPT
    return out


def main() -> None:
    figs = figures()
    for name, limit in TARGETS.items():
        flag = "ok " if figs["met"][name] else "OFF"
        print(f"{flag} {name}: {figs[name]} (target <= {limit})")
    print(json.dumps(figs))


if __name__ == "__main__":
    main()
