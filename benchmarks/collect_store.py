"""Activation collection and store reads, side by side with what a user would do otherwise.

* collection throughput on random-small: ``collect`` (resid, every layer, valid frames, pooled
  views, statistics, hashed atomic writes) vs the naive baseline (Hugging Face
  ``output_hidden_states=True`` + one ``torch.save`` per clip) vs a bare forward, on the same
  clips and batches, interleaved, best of ``--repeats``;
* streaming read: ``store.stream`` over every layer's shards vs a plain sequential read of the same
  files, each pass starting from the disk (the files' pages are dropped from the page cache first
  with ``posix_fadvise(DONTNEED)``; ``page_cache_evicted`` says whether that was possible). Each
  streaming pass opens the store afresh, so every shard is checked against its Fletcher-64 sum as it
  streams (a store checks each file once per open); the same pass with every shard marked as checked gives
  the read path without verification, and ``verify_cost`` the share of throughput verification
  takes (best pass of each; ``verify_cost_paired_median``: the median over back-to-back pairs, in
  alternating order, which other jobs on the machine disturb less);
* memory: a child process collects a store four times its memory budget (attn_z + resid,
  ``--memory-clips`` clips) while this process samples the child's resident memory with psutil;
  the figure is the peak above the child's memory just before collecting, over the budget. The
  child loads the model and runs one forward of one batch first (``warm``: the runtime's one-off
  working set belongs to the model, not to collection); the peak above the memory right after
  loading is recorded too (``peak_rss_over_budget_from_load``), and so is the peak above live
  memory only (``peak_rss_over_budget_live``: the warm-up's freed pages handed back first, so the
  forward's fixed working set, e.g. bfloat16 weights widened for CPU matmuls, counts against the
  budget). Run for random-small in float32 and random-medium in bfloat16.

    python benchmarks/collect_store.py [--clips 8] [--memory-clips 32] [--frames 200] [--threads 2]

Uses ``torch.set_num_threads(--threads)`` (default 2, the cores of the reference machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.collect import collect  # noqa: E402
from musicinterp.data.concept_set import ConceptSet  # noqa: E402
from musicinterp.store.background import release_freed_memory  # noqa: E402


def evict_from_page_cache(path: Path) -> bool:
    """Drop ``path``'s (written, clean) pages from the page cache, so the next read comes from the disk."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def evict_from_page_cache_all(files: list[Path]) -> bool:
    """Drop every file's pages (False where the platform cannot)."""
    return all([evict_from_page_cache(f) for f in files])


def bench_set(model, clips: int, frames: int) -> ConceptSet:
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (clips, model.n_codebooks, frames), generator=g)
    ids = [f"c{i}" for i in range(clips)]
    return ConceptSet("bench", {"x": torch.tensor([i % 2 for i in range(clips)])}, ids, ids, codes=codes)


def memory_child(args: argparse.Namespace) -> None:
    """Runs in the child: load, announce, collect a store 4x the budget, announce."""
    torch.set_num_threads(args.threads)
    model = load_model(args.model, dtype=args.dtype)
    cs = bench_set(model, args.memory_clips, args.frames)
    n_valid = len(model.valid_positions(args.frames))
    elt = torch.empty(0, dtype=model.dtype).element_size()
    store_bytes = args.memory_clips * n_valid * model.n_layers * 2 * model.d_model * elt
    budget_mb = store_bytes / 4 / 2**20
    print("LOADED", flush=True)
    with torch.no_grad():
        model.hf(**model.forward_inputs(cs.codes[: args.batch]))
    print(f"WARM {budget_mb}", flush=True)
    release_freed_memory()  # the stricter start: live memory only, without the warm-up's pages glibc kept
    print(f"START {budget_mb}", flush=True)
    store = collect(model, cs, ["attn_z", "resid"], out=args.workdir, dtype=args.dtype, batch_size=args.batch,
                    memory_budget_mb=budget_mb, overwrite=True, progress=False)
    print(f"END {store.nbytes / 2**20} {len(store.meta['chunks'])}", flush=True)


def measure_child(model: str, dtype: str, args: argparse.Namespace, work: Path) -> dict:
    """Start the child and sample its RSS every 2 ms; peak between START and END over the budget."""
    cmd = [sys.executable, __file__, "--memory-child", "--model", model, "--dtype", dtype, "--memory-clips",
           str(args.memory_clips), "--frames", str(args.frames), "--batch", str(args.batch), "--threads",
           str(args.threads), "--workdir", str(work / f"mem-{model}")]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    state = {"loaded": None, "warm": None, "base": None, "peak": 0, "done": False}

    def sample() -> None:
        while not state["done"]:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                return
            if state["base"] is not None:  # collecting (the warm-up forward's peak is not collection's)
                state["peak"] = max(state["peak"], rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    budget_mb = store_mb = chunks = None
    for line in child.stdout:
        if line.startswith("LOADED"):
            state["loaded"] = proc.memory_info().rss
        elif line.startswith("WARM"):
            state["warm"] = proc.memory_info().rss
        elif line.startswith("START"):
            state["base"] = proc.memory_info().rss
            budget_mb = float(line.split()[1])
        elif line.startswith("END"):
            state["done"] = True
            _, store_mb, chunks = line.split()
    child.wait()
    state["done"] = True
    sampler.join()
    if child.returncode != 0 or budget_mb is None or store_mb is None:
        raise RuntimeError(f"memory child for {model} failed (exit {child.returncode})")
    over = (state["peak"] - state["warm"]) / 2**20
    over_live = (state["peak"] - state["base"]) / 2**20
    over_load = (state["peak"] - state["loaded"]) / 2**20
    return {"model": model, "dtype": dtype, "budget_mb": round(budget_mb, 1), "store_mb": round(float(store_mb), 1),
            "chunks": int(chunks), "warm_up_mb": round((state["warm"] - state["loaded"]) / 2**20, 1),
            "peak_above_start_mb": round(over, 1), "peak_rss_over_budget": round(over / budget_mb, 3),
            "peak_rss_over_budget_live": round(over_live / budget_mb, 3),
            "peak_rss_over_budget_from_load": round(over_load / budget_mb, 3)}


def measure_stream(root: Path, n_layers: int, passes: int) -> dict:
    """Seconds per pass over every layer's shards: a raw read, ``store.stream`` (fresh open, so every shard's
    checksum is checked), and the same with every shard marked as checked; each pass from the disk."""
    from musicinterp.store import ActivationStore

    store = ActivationStore.open(root)
    layers = range(n_layers)  # every layer's shards: one layer of 8 clips is only a few MB
    files = [f for layer in layers for f in store.shard_files("resid", layer)]

    def stream_pass(verify: bool) -> tuple[float, int]:
        opened = ActivationStore.open(root)  # a fresh open: every shard is checked on its first read
        if not verify:  # every file marked as checked: the read path without verification
            opened.verified.done.update(opened.meta["files"])
        evict_from_page_cache_all(files)
        t0 = time.perf_counter()
        n = sum(b.shape[0] for layer in layers
                for b in opened.stream("resid", layer, batch_size=1024, shuffle_buffer=8192))
        return time.perf_counter() - t0, n

    out: dict = {"read": [], "verified": [], "unverified": [], "nbytes": sum(f.stat().st_size for f in files)}
    for _ in range(passes):
        out["evicted"] = evict_from_page_cache_all(files)
        t0 = time.perf_counter()
        for f in files:
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        out["read"].append(time.perf_counter() - t0)
        for verify in (True, False) if len(out["read"]) % 2 else (False, True):  # alternate which goes first
            seconds, out["rows"] = stream_pass(verify)
            out["verified" if verify else "unverified"].append(seconds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="random-small")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--memory-clips", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--stream-passes", type=int, default=3)
    ap.add_argument("--memory-models", default="random-small:float32,random-medium:bfloat16")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args)
        return
    torch.set_num_threads(args.threads)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mi-bench-"))
    model = load_model(args.model)
    cs = bench_set(model, args.clips, args.frames)
    codes = cs.codes
    batches = [codes[i : i + args.batch] for i in range(0, args.clips, args.batch)]
    valid = model.valid_positions(args.frames)

    def bare() -> None:
        with torch.no_grad():
            for b in batches:
                model.hf(**model.forward_inputs(b))

    def naive(out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        with torch.no_grad():
            for bi, b in enumerate(batches):
                hs = model.hf(**model.forward_inputs(b), output_hidden_states=True).decoder_hidden_states
                resid = torch.stack(hs[1:], dim=1)[:, :, valid.start : valid.stop]  # layer outputs, valid frames
                for j in range(b.shape[0]):
                    torch.save(resid[j].clone(), out / f"clip{bi * args.batch + j}.pt")

    def ours(out: Path) -> None:
        collect(model, cs, ["resid"], out=out, batch_size=args.batch, overwrite=True, progress=False)

    bare()  # warm-up
    times: dict[str, list[float]] = {"bare": [], "naive": [], "ours": []}
    for rep in range(args.repeats):
        for name, fn in (("bare", bare), ("naive", lambda rep=rep: naive(work / f"naive{rep}")),
                         ("ours", lambda rep=rep: ours(work / f"store{rep}"))):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    bare_s, naive_s, ours_s = (min(times[k]) for k in ("bare", "naive", "ours"))

    st = measure_stream(work / f"store{args.repeats - 1}", model.n_layers, args.stream_passes)
    nbytes, rows, evicted = st["nbytes"], st["rows"], st["evicted"]
    disk_s, stream_s, unverified_s = min(st["read"]), min(st["verified"]), min(st["unverified"])

    memory = [measure_child(m, d, args, work) for m, d in (x.split(":") for x in args.memory_models.split(",") if x)]
    print(f"collection: bare forward {bare_s:.2f}s, naive {naive_s:.2f}s, collect {ours_s:.2f}s "
          f"(all runs: {json.dumps({k: [round(t, 2) for t in v] for k, v in times.items()})})")
    print(f"stream {nbytes / stream_s / 2**20:.0f} MB/s (every shard's Fletcher-64 sum checked; "
          f"{nbytes / unverified_s / 2**20:.0f} MB/s unchecked) vs sequential read {nbytes / disk_s / 2**20:.0f} MB/s "
          f"({rows} rows)")
    for m in memory:
        print(f"memory {m['model']} {m['dtype']}: store {m['store_mb']} MB in {m['chunks']} chunks, budget "
              f"{m['budget_mb']} MB, child peak above its start {m['peak_above_start_mb']} MB (warm-up forward "
              f"{m['warm_up_mb']} MB)")
    shutil.rmtree(work, ignore_errors=True)
    print_json({
        "model": args.model, "clips": args.clips, "frames": args.frames, "batch": args.batch, "threads": args.threads,
        "bare_forward_s": round(bare_s, 3), "naive_s": round(naive_s, 3), "collect_s": round(ours_s, 3),
        "speedup_vs_naive": round(naive_s / ours_s, 3), "ratio_vs_forward": round(ours_s / bare_s, 3),
        "stream_mb_s": round(nbytes / stream_s / 2**20, 1), "disk_mb_s": round(nbytes / disk_s / 2**20, 1),
        "stream_unverified_mb_s": round(nbytes / unverified_s / 2**20, 1),
        "verify_cost": round(1 - unverified_s / stream_s, 3),
        "verify_cost_paired_median": round(1 - statistics.median(u / v for u, v in zip(st["unverified"], st["verified"],
                                                                                    strict=True)), 3),
        "stream_passes_s": {k: [round(t, 3) for t in st[k]] for k in ("verified", "unverified")},
        "read_fraction_of_disk": round(disk_s / stream_s, 3), "stream_mb": round(nbytes / 2**20, 1),
        "page_cache_evicted": evicted,
        "peak_rss_over_budget": max(m["peak_rss_over_budget"] for m in memory) if memory else None,
        "peak_rss_over_budget_live": max(m["peak_rss_over_budget_live"] for m in memory) if memory else None,
        "peak_rss_over_budget_from_load": max(m["peak_rss_over_budget_from_load"] for m in memory) if memory else None,
        "memory": memory,
        "targets": {"speedup_vs_naive": ">=1.0", "ratio_vs_forward": "<=1.2", "read_fraction_of_disk": ">=0.5",
                    "verify_cost": "<=0.10",
                    "peak_rss_over_budget": "<=1.0 (every model)"},
    })


if __name__ == "__main__":
    main()
