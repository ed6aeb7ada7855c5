"""The house targets, one test each, computed by ``benchmarks/structure.py`` (which also prints them as JSON)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "structure.py"


def _load():
    spec = importlib.util.spec_from_file_location("house_structure", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


S = _load()


def _listing(items) -> str:
    return "\n  " + "\n  ".join(map(str, items))


def test_no_import_cycles_between_packages():
    cycles = S.package_cycles()
    assert not cycles, "packages that import one another in a cycle:" + _listing(
        f"{c['packages']}:{_listing(c['imports'])}" for c in cycles)


def test_organism_is_imported_and_named_only_where_it_belongs():
    hits = S.organism_references()
    assert not hits, (f"{len(hits)} organism imports or source == 'organism' tests outside "
                      f"{S.ORGANISM_ALLOWED}:" + _listing(hits))


def test_few_modules_loose_at_the_top():
    loose = S.loose_modules()
    assert len(loose) <= S.TARGETS["loose_modules"], f"{len(loose)} loose modules in musicinterp/: {loose}"


def test_no_module_over_the_line_limit():
    long = S.long_modules()
    assert not long, f"modules over {S.MAX_MODULE_LINES} lines:" + _listing(long)


def test_no_function_over_the_line_limit():
    long = S.long_functions()
    assert not long, f"functions over {S.MAX_FUNCTION_LINES} lines:" + _listing(long)


def test_public_namespace_is_small():
    names = S.exports()
    assert len(names) <= S.TARGETS["exports"], f"musicinterp.__all__ has {len(names)} names (at most 60)"


def test_exported_errors_derive_from_musicinterp_error():
    bad = S.unrooted_errors()
    assert not bad, "exported error classes that are not MusicInterpError subclasses:" + _listing(bad)


def test_exported_errors_have_a_section_in_the_error_guide():
    missing = S.undocumented_errors()
    assert not missing, "exported error classes with no heading of their own in docs/errors.md:" + _listing(missing)


def test_every_module_has_a_mirror_test():
    untested = S.untested_modules()
    assert not untested, ("modules with no mirror test module (musicinterp/a/b.py -> tests/a/test_b.py) and not in "
                          "MIRROR_EXEMPT:" + _listing(untested))


def test_mirror_exemptions_are_few_and_explained():
    assert len(S.MIRROR_EXEMPT) <= 5
    assert all(isinstance(why, str) and len(why) > 10 for why in S.MIRROR_EXEMPT.values())


# ------------------------------------------------------------------ the checker itself, on hand-made inputs
def test_imports_resolve_relative_names_count_lazy_ones_and_skip_type_checking(tmp_path):
    src = tmp_path / "b.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..c import x\n"
        "from . import d\n"
        "if TYPE_CHECKING:\n"
        "    from ..e import Y\n"
        "else:\n"
        "    import musicinterp.f\n"
        "def g():\n"
        "    from ...musicinterp import h\n"
        "    import numpy\n")
    modules = {m: Path() for m in ("musicinterp", "musicinterp.a.d", "musicinterp.c", "musicinterp.e",
                                   "musicinterp.f", "musicinterp.a.b")}
    found = S.imported_modules("musicinterp.a.b", src, modules)
    assert found == [("musicinterp.c", 2), ("musicinterp.a.d", 3), ("musicinterp.f", 7), ("musicinterp", 9)]


def test_package_of_and_cycle_groups():
    assert [S.package_of(m) for m in ("musicinterp.a.b.c", "musicinterp.errors", "musicinterp")] == [
        "a", "errors", "musicinterp"]
    graph = {"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}, "e": {"f": ""}, "f": {}}
    assert S._strongly_connected(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("line, hit", [
    ('if model.source == "organism":', True), ("if m.source != 'organism':", True),
    ("from ..organism.world import CONCEPTS", True), ("from .organism import KeyJudge", True),
    ("import musicinterp.organism as o", True), ("from .. import organism", True),
    ("from ..models import load_model", False), ('name = "organism"', False)])
def test_organism_patterns(line, hit):
    assert any(p.search(line) for p in S.ORGANISM_PATTERNS) is hit


def test_mirror_test_paths():
    assert S.mirror_test(S.PKG / "store" / "reader.py") == S.ROOT / "tests" / "store" / "test_reader.py"
    assert S.mirror_test(S.PKG / "errors.py") == S.ROOT / "tests" / "test_errors.py"
