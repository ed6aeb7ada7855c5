import subprocess
import sys
from pathlib import Path

import pytest
import torch

from musicinterp.collect import collect
from musicinterp.store import ActivationStore, StoreIncompleteError
from musicinterp.store import layout as LY
from musicinterp.store.folder import prepare
from musicinterp.store.writer import StoreWriter

from .conftest import random_set

REPO = str(Path(__file__).resolve().parents[2])

# Collects 10 clips in 5 chunks and SIGKILLs itself right after chunk 2 is committed, leaving a
# half-written file of chunk 3 under its final name (as a crash between write and rename would not).
KILLED = f"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {REPO!r})
from tests.store.conftest import random_set
from musicinterp import load_model
from musicinterp.collect import collect
from musicinterp.store import layout as LY

def die(chunk):
    if chunk == 2:
        partial = LY.shard_path(Path(sys.argv[1]), "attn_z", 0, LY.chunk_name(0, chunk + 1))
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"partial")
        (partial.parent / ".00003.safetensors.tmp").write_bytes(b"left by a crash")
        os.kill(os.getpid(), signal.SIGKILL)

collect(load_model("tiny"), random_set(n=10), ["attn_z", "resid"], out=sys.argv[1], batch_size=2,
        progress=False, on_chunk_written=die)
"""


def test_kill_and_resume_gives_identical_store(tiny, tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "a")], capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    with pytest.raises(StoreIncompleteError, match="resume"):
        ActivationStore.open(tmp_path / "a")
    done = sorted(p.name for p in (tmp_path / "a" / "chunks").iterdir())
    assert done == [f"r00-0000{i}.json" for i in range(3)]
    kwargs = {"batch_size": 2, "progress": False}
    resumed = []
    a = collect(tiny, random_set(n=10), ["attn_z", "resid"], out=tmp_path / "a", on_chunk_written=resumed.append,
                **kwargs)
    b = collect(tiny, random_set(n=10), ["attn_z", "resid"], out=tmp_path / "b", **kwargs)
    assert resumed == [3, 4]  # only the chunks that were not committed
    a = ActivationStore.open(tmp_path / "a", deep_verify=True)
    assert a.meta["files"] == b.meta["files"]  # same files, sizes and SHA-256
    assert len(a.meta["chunks"]) == 5
    assert not list((tmp_path / "a").rglob(".*"))  # temporaries and scaffolding are gone


def test_finalize_refuses_missing_chunks(tmp_path):
    config = {"sites": ["resid"], "frames_stored": True}
    root = tmp_path / "t"
    prepare(root, config, "fresh")
    writer = StoreWriter(root, config)
    with pytest.raises(StoreIncompleteError, match=r"chunks \[0, 1\] were never committed"):
        writer.finalize(2, {})
    assert not (root / LY.METADATA).exists()


def test_recorded_digests_are_the_files_digests(tiny, tmp_path):
    store = collect(tiny, random_set(n=6), ["attn_z"], out=tmp_path / "s", batch_size=4, dtype="bfloat16",
                    progress=False)
    for rel, info in store.meta["files"].items():
        path = tmp_path / "s" / rel
        assert LY.file_digest(path) == info["sha256"] and path.stat().st_size == info["bytes"]


def test_statistics_are_computed_on_the_building_thread(tiny, tmp_path, monkeypatch):
    """The collection loop hands the writer chunks whose statistics are already computed (their float64
    temporaries would otherwise pile up in the writer thread's malloc arena); they equal the writer's own."""
    from musicinterp.store.writer import chunk_stats

    seen = []
    original = StoreWriter.write

    def spy(self, chunk):
        seen.append(chunk.stats is not None)
        expected = chunk_stats(chunk)
        for site, st in chunk.stats.items():
            assert st.count == expected[site].count
            assert torch.equal(st.mean, expected[site].mean) and torch.equal(st.m2, expected[site].m2)
        return original(self, chunk)

    monkeypatch.setattr(StoreWriter, "write", spy)
    with pytest.warns(UserWarning, match="memory budget"):  # one clip per chunk
        collect(tiny, random_set(n=6), ["attn_z", "resid"], out=tmp_path / "s", batch_size=2,
                memory_budget_mb=0.02, progress=False)
    assert len(seen) > 1 and all(seen)


def test_a_chunk_with_non_finite_values_is_refused_before_it_is_written(tmp_path):
    from musicinterp.store.errors import StoreNonFiniteError
    from musicinterp.store.writer import Chunk

    config = {"sites": ["resid"], "frames_stored": True}
    prepare(tmp_path / "t", config, "fresh")
    x = torch.ones(4, 3)
    x[2, 1] = float("inf")  # e.g. an activation beyond float16's range after conversion
    pooled = {"mean": torch.ones(2, 1, 3), "last": torch.ones(2, 1, 3)}
    chunk = Chunk(index=0, frames={"resid": [x]}, pooled={"resid": pooled}, row_labels={}, rows=None, clips=[])
    with pytest.raises(StoreNonFiniteError, match=r"chunk r00-00000, site resid statistics: tensor 'mean'"):
        StoreWriter(tmp_path / "t", config).write(chunk)
    assert not (tmp_path / "t" / "shards").exists()
    pooled["last"][1, 0, 2] = float("nan")
    chunk = Chunk(index=0, frames={}, pooled={"resid": pooled}, row_labels={}, rows=None, clips=[])
    with pytest.raises(StoreNonFiniteError, match=r"site resid pooled: tensor 'last' holds 1 NaN"):
        StoreWriter(tmp_path / "t", config).write(chunk)
