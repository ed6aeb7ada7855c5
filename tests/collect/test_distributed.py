"""Two CPU processes (gloo, the variables ``accelerate launch`` sets) give the store one process gives."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from musicinterp.collect import collect
from musicinterp.store import ActivationStore
from tests.store.conftest import random_set

REPO = str(Path(__file__).resolve().parents[2])
WORKER = f"""
import os, signal, sys
import torch
sys.path.insert(0, {REPO!r})
torch.set_num_threads(1)
from tests.store.conftest import random_set
from musicinterp import load_model
from musicinterp.collect import collect

def crash(chunk):  # rank 1 dies after committing its first chunk when asked to
    if os.environ.get("CRASH_RANK") == os.environ["RANK"]:
        os.kill(os.getpid(), signal.SIGKILL)

collect(load_model("tiny"), random_set(n=10), ["attn_z", "resid"], out=sys.argv[1], batch_size=int(sys.argv[2]),
        progress=False, distributed=True, on_chunk_written=crash)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(out: Path, batch: int, crash_rank: int | None = None) -> list[subprocess.Popen]:
    port = _free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2",
               "RANK": str(rank), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2", "ACCELERATE_USE_CPU": "true",
               "OMP_NUM_THREADS": "1"}
        if crash_rank is not None:
            env["CRASH_RANK"] = str(crash_rank)
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(out), str(batch)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    return procs


def _wait(procs: list[subprocess.Popen], timeout: float = 600) -> list[int]:
    codes = []
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        codes.append(p.returncode)
    return codes


def assert_same_store(a: ActivationStore, b: ActivationStore) -> None:
    assert a.clips.to_pylist() == b.clips.to_pylist()
    assert a.index.to_pylist() == b.index.to_pylist()
    for site in a.sites:
        for layer in range(a.n_layers):
            assert torch.allclose(a.read_frames(site, layer), b.read_frames(site, layer), rtol=0, atol=1e-6)
        for pooling in ("mean", "last"):
            assert torch.allclose(a.probe_view(site, pooling).x, b.probe_view(site, pooling).x, atol=1e-6)
        sa, sb = a.stats(site), b.stats(site)
        assert sa.count == sb.count and sa.class_count == sb.class_count
        assert torch.allclose(sa.mean, sb.mean, atol=1e-5) and torch.allclose(sa.var, sb.var, atol=1e-5)
        for key in sa.class_means:
            assert torch.allclose(sa.class_means[key], sb.class_means[key], atol=1e-5)


@pytest.mark.slow
def test_two_processes_give_the_one_process_store(tiny, tmp_path):
    procs = _launch(tmp_path / "two", 8)
    codes = _wait(procs)
    assert codes == [0, 0], [p.stderr.read().decode()[-1500:] for p in procs]
    two = ActivationStore.open(tmp_path / "two", deep_verify=True)
    one = collect(tiny, random_set(n=10), ["attn_z", "resid"], out=tmp_path / "one", batch_size=8, progress=False)
    assert [c["name"] for c in two.meta["chunks"]] == ["r00-00000", "r01-00001"]  # 5 clips per process
    assert [c["name"] for c in one.meta["chunks"]] == ["r00-00000", "r00-00001"]  # 8 + 2 clips
    assert two.meta["num_processes"] == 2 and two.meta["n_clips_kept"] == 10
    assert_same_store(two, one)


@pytest.mark.slow
def test_a_crashed_process_resumes_its_part(tiny, tmp_path):
    procs = _launch(tmp_path / "s", 2, crash_rank=1)  # chunks of 2 clips: ranks 0-2 and 3-4
    assert procs[1].wait(timeout=600) == -signal.SIGKILL
    time.sleep(1)
    procs[0].kill()  # rank 0 waits for rank 1 at the barrier
    _wait(procs)
    done = sorted(p.name for p in (tmp_path / "s" / "chunks").iterdir())
    assert "r01-00003.json" in done and "r01-00004.json" not in done
    procs = _launch(tmp_path / "s", 2)  # the same command again
    assert _wait(procs) == [0, 0], [p.stderr.read().decode()[-1500:] for p in procs]
    resumed = ActivationStore.open(tmp_path / "s", deep_verify=True)
    assert [c["name"] for c in resumed.meta["chunks"]] == ["r00-00000", "r00-00001", "r00-00002", "r01-00003",
                                                            "r01-00004"]
    one = collect(tiny, random_set(n=10), ["attn_z", "resid"], out=tmp_path / "one", batch_size=8, progress=False)
    assert_same_store(resumed, one)
