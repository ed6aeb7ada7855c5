"""The package's import-time graph has no cycles between musicinterp modules.

Import-time imports are the module-level ones (outside functions and ``if TYPE_CHECKING:``): a cycle among
them breaks or half-initialises a module on import. Imports inside functions are counted between packages
by ``tests/test_structure.py`` (the house target: no package imports another that imports it back).
"""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "musicinterp"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in _import_time_nodes(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in modules]
                targets += subs if len(subs) == len(node.names) else [mod, *subs]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    graph[name].add(t)
    return graph


def _import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """Statements run on import: the module body and its if/try blocks, not functions, classes' methods or
    ``if TYPE_CHECKING:``."""
    out, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            todo += node.orelse
            continue
        out.append(node)
        for field in ("body", "orelse", "finalbody", "handlers"):
            todo += [n for n in getattr(node, field, []) if isinstance(n, ast.AST)]
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def _is_package_reexport(cycle: list[str]) -> bool:
    """``pkg/__init__`` importing its own submodule is not a cycle of the design."""
    return all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(cycle, cycle[1:], strict=False))


def test_no_import_cycles():
    cycles = [c for c in _cycles(_graph()) if not _is_package_reexport(c)]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
