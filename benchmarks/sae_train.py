"""SAE training streamed from an on-disk store vs the same trainer fed from one in-memory tensor.

Both runs drive dictionary_learning's TopKTrainer with the same resolved
settings (steps, batch, dictionary size, k, seed, float32) on the organism's
residual stream, in the same loop body: ``trainer.update`` every step and the
live FVE/L0/dead metrics every ``log_every`` steps. Only the batch source
differs. The streamed run is ``mi.sae.train`` (shuffle buffer over sequential
shard reads, batches prefetched on a thread). The in-memory baseline reads the
whole layer once (timed apart, as ``memory_load_s``), normalises it, and per
epoch permutes it once and hands out contiguous slices: the cheapest honest
sampler (one gather per epoch, each batch a view).

OpenMP wait policy. On a small machine shared with other processes, GNU
OpenMP's default wait policy spins its worker threads for a long time at every
barrier when the process runs no more OpenMP threads than there are CPUs.
``mi.sae.train``'s prefetch thread creates a second OpenMP team, which makes
libgomp throttle that spinning, so under load the in-memory loop alone paid
for it: measured 0.93 s per update vs 0.09 s with ``OMP_WAIT_POLICY=PASSIVE``
(2 threads, 2 loaded cores), which is where an earlier 6x "streaming beats
memory" came from. This script therefore sets ``OMP_WAIT_POLICY=PASSIVE``
before torch starts (unless the variable is already set) so both sides run
under the same threading, and also reports CPU time per side (the streamed
side's includes its reader thread).

The two runs alternate (in-memory, streamed, streamed, in-memory, ... for
``--repeats`` pairs) and each keeps its fastest run, so a change in the load of
a shared machine during the benchmark does not land on one side only. Then the
streamed SAE is evaluated (FVE, L0, dead fraction, spliced ce_loss_score).

    python benchmarks/sae_train.py [--steps 500] [--repeats 2] [--store PATH] [--threads 2]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads libgomp; see the docstring

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.collect import collect  # noqa: E402
from musicinterp.organism.concept_sets import balanced_set  # noqa: E402
from musicinterp.sae import train  # noqa: E402
from musicinterp.sae.architectures import make_trainer  # noqa: E402
from musicinterp.sae.config import TrainConfig  # noqa: E402
from musicinterp.sae.evaluate import evaluate  # noqa: E402
from musicinterp.sae.training import batch_metrics, norm_factor  # noqa: E402
from musicinterp.store import ActivationStore  # noqa: E402

LOG_EVERY = 10  # mi.sae.train's default: both sides compute the live metrics this often


def load_layer(store: ActivationStore, cfg: TrainConfig) -> torch.Tensor:
    """The whole layer as one normalised float32 tensor ``(rows, d)``."""
    x = store.read_frames(cfg.site, cfg.layer).float()
    return x.reshape(x.shape[0], -1) / norm_factor(store, cfg.site, cfg.layer)


def in_memory(x: torch.Tensor, cfg: TrainConfig, model_id: str) -> tuple[float, float]:
    """(wall s, CPU s) of ``cfg.steps`` updates on batches sliced from a per-epoch permutation of ``x``."""
    w0, c0 = time.perf_counter(), time.process_time()
    trainer = make_trainer(cfg, x.shape[1], model_id)
    g = torch.Generator().manual_seed(cfg.seed)
    epoch, pos = x[torch.randperm(x.shape[0], generator=g)], 0
    for step in range(cfg.steps):
        if pos + cfg.batch_size > epoch.shape[0]:
            epoch, pos = x[torch.randperm(x.shape[0], generator=g)], 0
        batch = epoch[pos:pos + cfg.batch_size]  # a view: TopKTrainer.update does not write to its input
        pos += cfg.batch_size
        trainer.update(step, batch)
        if (step + 1) % LOG_EVERY == 0 or step + 1 == cfg.steps:
            batch_metrics(trainer, batch, cfg.arch)
    return time.perf_counter() - w0, time.process_time() - c0


def streamed(store: ActivationStore, settings: dict) -> tuple[float, float, object]:
    """(wall s, CPU s, SAE) of ``mi.sae.train`` with ``settings``."""
    w0, c0 = time.perf_counter(), time.process_time()
    sae = train(store, "resid", progress=False, log_every=LOG_EVERY, **settings)
    return time.perf_counter() - w0, time.process_time() - c0, sae


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=2, help="pairs of runs (in alternating order); fastest kept")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--layer", type=int, default=3)
    ap.add_argument("--dict-size", type=int, default=1024)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--store", default=None, help="an organism store with resid frames (else one is collected)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model("organism")
    if args.store:
        store = ActivationStore.open(args.store, model=model)
    else:
        out = Path(tempfile.mkdtemp(prefix="mi-sae-train-")) / "store"
        store = collect(model, balanced_set("drums", 256, seed=7), ["resid"], out=out, frames="valid",
                        batch_size=32, progress=False)
    settings = {"layer": args.layer, "dict_size": args.dict_size, "k": args.k, "steps": args.steps,
                "batch_size": args.batch_size, "seed": 0}
    cfg = TrainConfig(site="resid", **settings).resolved()
    t0 = time.perf_counter()
    x = load_layer(store, cfg)
    t_load = time.perf_counter() - t0
    runs: dict[str, list[tuple[float, float]]] = {"memory": [], "stream": []}
    sae = None
    for i in range(args.repeats):
        for side in (("memory", "stream") if i % 2 == 0 else ("stream", "memory")):
            if side == "memory":
                runs[side].append(in_memory(x, cfg, store.meta["model_id"]))
            else:
                wall, cpu, sae = streamed(store, settings)
                runs[side].append((wall, cpu))
            print(f"{side}: {runs[side][-1][0]:.1f} s wall, {runs[side][-1][1]:.1f} s CPU", flush=True)
    t_mem, t_stream = (min(w for w, _ in runs[s]) for s in ("memory", "stream"))
    c_mem, c_stream = (min(c for _, c in runs[s]) for s in ("memory", "stream"))
    frames = args.steps * args.batch_size
    res = evaluate(sae, store, model, n_clips=32, progress=False)
    print(f"in-memory: {frames / t_mem:.0f} frames/s ({t_mem:.1f} s); streamed: {frames / t_stream:.0f} frames/s "
          f"({t_stream:.1f} s)")
    print(res)
    print_json({
        "setting": f"organism resid L{args.layer}, TopK dict {args.dict_size} k {args.k}, {args.steps} steps x "
                   f"{args.batch_size} float32, {args.threads} threads, OMP_WAIT_POLICY="
                   f"{os.environ.get('OMP_WAIT_POLICY')}, fastest of {args.repeats} runs each",
        "store_frames": int(store.meta["n_rows"]), "memory_load_s": round(t_load, 2),
        "memory_frames_per_s": round(frames / t_mem, 1), "stream_frames_per_s": round(frames / t_stream, 1),
        "stream_over_memory": round(t_mem / t_stream, 3), "stream_over_memory_cpu": round(c_mem / c_stream, 3),
        "memory_runs_s": [round(w, 1) for w, _ in runs["memory"]],
        "stream_runs_s": [round(w, 1) for w, _ in runs["stream"]],
        "memory_cpu_s": [round(c, 1) for _, c in runs["memory"]],
        "stream_cpu_s": [round(c, 1) for _, c in runs["stream"]],
        "fve": round(res.fve, 4), "l0": round(res.l0, 2),
        "dead_fraction": round(res.dead_fraction, 4), "ce_loss_score": round(res.ce_loss_score, 4),
        "kl_div_score": round(res.kl_div_score, 4)})


if __name__ == "__main__":
    main()
