"""Activation collection and store reads on random-small, side by side with what a user would do otherwise.

* collection throughput: ``collect`` (resid, every layer, valid frames) vs the naive baseline
  (Hugging Face ``output_hidden_states=True`` + one ``torch.save`` per clip) vs a bare forward
  on the same clips and batches;
* streaming read: ``store.stream`` over one layer's shards vs a plain sequential read of the same files;
* memory: peak resident memory (sampled) while writing a store four times the memory budget,
  over the budget (the model is loaded before the baseline is taken).

    python benchmarks/collect_store.py [--clips 8] [--frames 200] [--model random-small]
"""

from __future__ import annotations

import argparse
import shutil
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
from musicinterp.models.delay import valid_positions  # noqa: E402


class PeakRSS:
    """Samples this process's RSS every few milliseconds in a thread."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="random-small")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mi-bench-"))
    model = load_model(args.model)
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (args.clips, model.n_codebooks, args.frames), generator=g)
    cs = ConceptSet("bench", {"x": torch.tensor([i % 2 for i in range(args.clips)])},
                    [f"c{i}" for i in range(args.clips)], [f"c{i}" for i in range(args.clips)], codes=codes)
    batches = [codes[i : i + args.batch] for i in range(0, args.clips, args.batch)]

    def bare() -> None:
        with torch.no_grad():
            for b in batches:
                model.hf(**model.forward_inputs(b))

    def naive(out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        valid = valid_positions(args.frames, model.n_codebooks)
        with torch.no_grad():
            for bi, b in enumerate(batches):
                hs = model.hf(**model.forward_inputs(b), output_hidden_states=True).decoder_hidden_states
                resid = torch.stack(hs[1:], dim=1)[:, :, valid.start : valid.stop]  # layer outputs, valid frames
                for j in range(b.shape[0]):
                    torch.save(resid[j].clone(), out / f"clip{bi * args.batch + j}.pt")

    def ours(out: Path, budget_mb: float = 512, sites=("resid",)) -> None:
        collect(model, cs, list(sites), out=out, batch_size=args.batch, memory_budget_mb=budget_mb,
                overwrite=True, progress=False)

    bare()  # warm-up
    times = {"bare": [], "naive": [], "ours": []}
    for rep in range(2):
        for name, fn in (("bare", bare), ("naive", lambda rep=rep: naive(work / f"naive{rep}")),
                         ("ours", lambda rep=rep: ours(work / f"store{rep}"))):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    bare_s, naive_s, ours_s = (min(times[k]) for k in ("bare", "naive", "ours"))

    # streaming read vs a sequential read of the same shard files
    from musicinterp.store import ActivationStore

    store = ActivationStore.open(work / "store1")
    files = store.shard_files("resid", model.n_layers // 2)
    nbytes = sum(f.stat().st_size for f in files)
    read_times, stream_times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        for f in files:
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        read_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rows = sum(b.shape[0] for b in store.stream("resid", model.n_layers // 2, batch_size=1024,
                                                    shuffle_buffer=8192))
        stream_times.append(time.perf_counter() - t0)
    disk_s, stream_s = min(read_times), min(stream_times)

    # memory: a store four times the budget (attn_z + resid)
    per_clip = (args.frames - model.n_codebooks + 1) * model.n_layers * 2 * model.d_model * 4
    budget_mb = args.clips * per_clip / 4 / 2**20
    proc = psutil.Process()
    base = proc.memory_info().rss
    with PeakRSS() as peak:
        ours(work / "store_mem", budget_mb=budget_mb, sites=("attn_z", "resid"))
    store_mb = sum(p.stat().st_size for p in (work / "store_mem").rglob("*") if p.is_file()) / 2**20
    model_mb = sum(p.numel() * p.element_size() for p in model.hf.parameters()) / 2**20
    over = (peak.peak - base) / 2**20
    print(f"collection: bare forward {bare_s:.2f}s, naive {naive_s:.2f}s, collect {ours_s:.2f}s")
    print(f"stream {nbytes / stream_s / 2**20:.0f} MB/s vs sequential read {nbytes / disk_s / 2**20:.0f} MB/s "
          f"({rows} rows)")
    print(f"memory: store {store_mb:.0f} MB, budget {budget_mb:.0f} MB, peak above the loaded model {over:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)
    print_json({
        "model": args.model, "clips": args.clips, "frames": args.frames, "batch": args.batch,
        "bare_forward_s": round(bare_s, 3), "naive_s": round(naive_s, 3), "collect_s": round(ours_s, 3),
        "speedup_vs_naive": round(naive_s / ours_s, 3), "ratio_vs_forward": round(ours_s / bare_s, 3),
        "stream_mb_s": round(nbytes / stream_s / 2**20, 1), "disk_mb_s": round(nbytes / disk_s / 2**20, 1),
        "read_fraction_of_disk": round(disk_s / stream_s, 3),
        "budget_mb": round(budget_mb, 1), "store_mb": round(store_mb, 1), "model_mb": round(model_mb, 1),
        "peak_rss_above_model_mb": round(over, 1), "peak_rss_over_budget": round(over / budget_mb, 3),
        "targets": {"speedup_vs_naive": ">=1.0", "ratio_vs_forward": "<=1.2", "read_fraction_of_disk": ">=0.5",
                    "peak_rss_over_budget": "<=1.0"},
    })


if __name__ == "__main__":
    main()
