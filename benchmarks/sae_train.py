"""SAE training streamed from an on-disk store vs the same trainer fed from one in-memory tensor.

Both runs use dictionary_learning's TopKTrainer with the same resolved settings
(steps, batch, dictionary size, k, seed) on the organism's residual stream. The
in-memory baseline is what a user would otherwise write: read the whole layer,
normalise it, and feed shuffled batches to ``trainer.update``. The streamed run
is ``mi.sae.train`` (shuffle buffer over sequential shard reads, batches
prefetched on a thread, live FVE/L0 every 10 steps). Then the streamed SAE is
evaluated (FVE, L0, dead fraction, spliced ce_loss_score).

The two runs alternate (in-memory, streamed, streamed, in-memory, ... for
``--repeats`` pairs) and each keeps its fastest run, so a change in the load of
a shared machine during the benchmark does not land on one side only.

    python benchmarks/sae_train.py [--steps 500] [--repeats 2] [--store PATH] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.collect import collect  # noqa: E402
from musicinterp.organism.concept_sets import balanced_set  # noqa: E402
from musicinterp.sae import train  # noqa: E402
from musicinterp.sae.architectures import make_trainer  # noqa: E402
from musicinterp.sae.config import TrainConfig  # noqa: E402
from musicinterp.sae.evaluate import evaluate  # noqa: E402
from musicinterp.sae.training import norm_factor  # noqa: E402
from musicinterp.store import ActivationStore  # noqa: E402


def in_memory(store: ActivationStore, cfg: TrainConfig) -> float:
    """Seconds for ``cfg.steps`` updates fed from one normalised in-memory tensor."""
    t0 = time.perf_counter()
    x = store.read_frames(cfg.site, cfg.layer).float()
    x = x.reshape(x.shape[0], -1) / norm_factor(store, cfg.site, cfg.layer)
    trainer = make_trainer(cfg, x.shape[1], store.meta["model_id"])
    g = torch.Generator().manual_seed(cfg.seed)
    order, pos = torch.randperm(x.shape[0], generator=g), 0
    for step in range(cfg.steps):
        if pos + cfg.batch_size > x.shape[0]:
            order, pos = torch.randperm(x.shape[0], generator=g), 0
        trainer.update(step, x[order[pos:pos + cfg.batch_size]])
        pos += cfg.batch_size
    return time.perf_counter() - t0


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
    mem_times, stream_times = [], []
    for i in range(args.repeats):
        for side in (("memory", "stream") if i % 2 == 0 else ("stream", "memory")):
            if side == "memory":
                mem_times.append(in_memory(store, cfg))
            else:
                t0 = time.perf_counter()
                sae = train(store, "resid", progress=False, **settings)
                stream_times.append(time.perf_counter() - t0)
            print(f"{side}: {(mem_times if side == 'memory' else stream_times)[-1]:.1f} s", flush=True)
    t_mem, t_stream = min(mem_times), min(stream_times)
    frames = args.steps * args.batch_size
    res = evaluate(sae, store, model, n_clips=32, progress=False)
    print(f"in-memory: {frames / t_mem:.0f} frames/s ({t_mem:.1f} s); streamed: {frames / t_stream:.0f} frames/s "
          f"({t_stream:.1f} s)")
    print(res)
    print_json({
        "setting": f"organism resid L{args.layer}, TopK dict {args.dict_size} k {args.k}, {args.steps} steps x "
                   f"{args.batch_size}, {args.threads} threads, fastest of {args.repeats} runs each",
        "store_frames": int(store.meta["n_rows"]),
        "memory_frames_per_s": round(frames / t_mem, 1), "stream_frames_per_s": round(frames / t_stream, 1),
        "stream_over_memory": round(t_mem / t_stream, 3),
        "memory_runs_s": [round(t, 1) for t in mem_times], "stream_runs_s": [round(t, 1) for t in stream_times],
        "fve": round(res.fve, 4), "l0": round(res.l0, 2),
        "dead_fraction": round(res.dead_fraction, 4), "ce_loss_score": round(res.ce_loss_score, 4),
        "kl_div_score": round(res.kl_div_score, 4)})


if __name__ == "__main__":
    main()
