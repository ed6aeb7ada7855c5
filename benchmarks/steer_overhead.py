"""Cost of steering during generation: plain HF generate vs every method (SMITIN's monitor included).

Through ``steer()`` for ITI, SMITIN, difference-in-means and regression, and through ``with iti.apply(model)``
(the ``apply`` column), all in one run.

random-small, 50 decoder steps, batch 2 with CFG. Steerers are fitted from a small pooled store of
random-small itself (their cost does not depend on what they learned). Interleaved repeats; medians.

    python benchmarks/steer_overhead.py [--model random-small] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, plain_generate, print_json, sync  # noqa: E402

from musicinterp import generate, load_model  # noqa: E402
from musicinterp.collect import collect  # noqa: E402
from musicinterp.data.concept_set import ConceptSet  # noqa: E402
from musicinterp.steering import (  # noqa: E402
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    RegressionConfig,
    RegressionSteerer,
    SMITINConfig,
    SMITINSteerer,
    steer,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="random-small")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    model = load_model(args.model, dtype=args.dtype, device=args.device)
    g = torch.Generator().manual_seed(0)
    n = 24
    codes = torch.randint(0, model.codebook_size, (n, model.n_codebooks, 12), generator=g)
    labels = torch.tensor([i % 2 for i in range(n)])
    cs = ConceptSet("overhead", {"c": labels}, [f"c{i}" for i in range(n)], [f"c{i}" for i in range(n)], codes=codes)
    store = collect(model, cs, ["attn_z", "resid"], out=Path(tempfile.mkdtemp()) / "s", frames="pooled",
                    progress=False)
    iti = ITISteerer.fit(store, "c", ITIConfig(k=48, strength=1e-3))
    smitin = SMITINSteerer.fit(store, "c", SMITINConfig(strength=1e-3, tau=1.01, interval=1))  # steers every step
    diffmeans = DiffMeansSteerer.fit(store, "c", DiffMeansConfig(strength=1e-3))  # all layers
    regression = RegressionSteerer.fit(store, "c", RegressionConfig(strength=1e-3, top_layers=3))
    ids = torch.randint(1, 1000, (2, 8), generator=g).to(model.device)
    kw = dict(input_ids=ids, max_new_tokens=args.steps, guidance_scale=3.0, do_sample=True, top_k=250,
              decode_audio=False)

    def plain() -> None:
        plain_generate(model, ids, args.steps)

    def applied() -> None:
        with iti.apply(model):
            generate(model, seed=0, **kw)

    runs = {"plain": plain, "iti": lambda: steer(model, iti, seed=0, **kw),
            "smitin": lambda: steer(model, smitin, seed=0, **kw),
            "diffmeans": lambda: steer(model, diffmeans, seed=0, **kw),
            "regression": lambda: steer(model, regression, seed=0, **kw), "apply": applied}
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            sync(args.device)
            t0 = time.perf_counter()
            fn()
            sync(args.device)
            times[name].append(time.perf_counter() - t0)
    med = {k: median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"  {k:10s} " + " ".join(f"{t:.3f}s" for t in v))
    ratios = {f"ratio_{k}": round(med[k] / med["plain"], 4) for k in runs if k != "plain"}
    print_json({"model": args.model, "device": args.device, "steps": args.steps, "batch": 2, "cfg_rows": 4,
                "iti_heads": int(iti.tensors["heads"].shape[0]), "smitin_layers": model.n_layers,
                **{f"{k}_s": round(v, 4) for k, v in med.items()}, **ratios, "target_ratio": 1.10,
                "all_within_target": all(r <= 1.10 for r in ratios.values())})


if __name__ == "__main__":
    main()
