"""Only folders this package wrote, holding nothing but its own files, may be deleted."""

import os

import pytest

from musicinterp.store import layout as LY
from musicinterp.store import owned
from musicinterp.store.errors import StoreOverwriteError


def _store(root):
    root.mkdir()
    owned.write_marker(root, "store")
    for rel in ("metadata.json", "clips.parquet", "shards/resid/L000/r00-00000.safetensors",
                "pooled/attn_z/r01-00003.safetensors", "stats/resid.safetensors", "chunks/r00-00000.json",
                "shards/resid/L001/.r00-00000.safetensors.k2j4_x9a.tmp", "probes/drums-resid-mean/probes.json"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def test_a_store_of_its_own_files_is_removed(tmp_path):
    root = _store(tmp_path / "s")
    assert owned.marker_kind(root) == "store" and owned.foreign_files(root, LY.OWN_FILES) == []
    owned.remove(root, "store", LY.OWN_FILES)
    assert not root.exists()


@pytest.mark.parametrize("rel", ["notes.txt", "shards/resid/L000/notes.txt", "shards/resid/L0/r00-00000.safetensors",
                                 "stats/../x", ".hidden", "probes/a/b/probes.json", "metadata.json.bak"])
def test_any_foreign_file_refuses_and_nothing_is_deleted(tmp_path, rel):
    root = _store(tmp_path / "s")
    target = (root / rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("keep me")
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(StoreOverwriteError, match="holds files musicinterp did not write"):
        owned.remove(root, "store", LY.OWN_FILES)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_links_no_marker_and_other_kinds_are_refused(tmp_path):
    root = _store(tmp_path / "s")
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "shards" / "link")
    with pytest.raises(StoreOverwriteError, match="shards/link"):
        owned.remove(root, "store", LY.OWN_FILES)
    (root / "shards" / "link").unlink()
    with pytest.raises(StoreOverwriteError, match="says it holds a store, not a steerer"):
        owned.remove(root, "steerer", LY.OWN_FILES)
    (root / owned.MARKER).unlink()
    with pytest.raises(StoreOverwriteError, match="has no written_by_musicinterp.json"):
        owned.remove(root, "store", LY.OWN_FILES)
    (root / owned.MARKER).write_text("{not json")
    with pytest.raises(StoreOverwriteError, match="has no written_by_musicinterp.json"):
        owned.remove(root, "store", LY.OWN_FILES)
    with pytest.raises(StoreOverwriteError, match="not a folder"):
        owned.remove(root / "metadata.json", "store", LY.OWN_FILES)
    assert elsewhere.is_dir() and (root / "metadata.json").is_file()


def test_a_marker_already_there_is_kept(tmp_path):
    owned.write_marker(tmp_path, "store")
    owned.write_marker(tmp_path, "steerer")
    assert owned.marker_kind(tmp_path) == "store"


def test_nothing_is_written_inside_the_installed_package(tmp_path):
    from musicinterp.store.errors import InstalledPackageError
    from musicinterp.store.folder import decide

    inside = owned.PACKAGE / "organism" / "checkpoint" / "new"
    with pytest.raises(InstalledPackageError, match="inside the installed musicinterp package"):
        owned.write_marker(inside, "steerer")
    with pytest.raises(InstalledPackageError, match="a store"):
        decide(owned.PACKAGE / "store_here", {"sites": ["resid"]}, False)
    assert not inside.exists() and not (owned.PACKAGE / "store_here").exists()
    owned.refuse_package_destination(tmp_path / "fine")


def test_publish_writes_atomically_and_replaces_only_its_own_kind(tmp_path):
    import re as _re

    from musicinterp.store.owned import MARKER, publish

    pats = [_re.compile(r"a\.txt")]
    dest = tmp_path / "out"
    publish(dest, "thing", pats, lambda t: (t / "a.txt").write_text("1"))
    assert (dest / "a.txt").read_text() == "1" and (dest / MARKER).is_file()
    publish(dest, "thing", pats, lambda t: (t / "a.txt").write_text("2"))  # ours: replaced
    assert (dest / "a.txt").read_text() == "2"

    def broken(t):
        (t / "a.txt").write_text("3")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        publish(dest, "thing", pats, broken)
    assert (dest / "a.txt").read_text() == "2" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(StoreOverwriteError):
        publish(dest, "thing", pats, lambda t: (t / "a.txt").write_text("4"))
    assert (dest / "notes.txt").read_text() == "mine" and (dest / "a.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
