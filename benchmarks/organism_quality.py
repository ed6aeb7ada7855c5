"""Quality gates of the organism: does it follow its concept words, keep both poles unconditionally,
and write valid music?

For each planted concept, N generations of 4 s with the default guidance, prompted
with the concept word, with its opposite, and unconditionally; the exact detectors
read the result. Also world validity and held-out teacher-forced NLL.

    python benchmarks/organism_quality.py [--n 64] [--checkpoint FOLDER]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import generate, load_model  # noqa: E402
from musicinterp.organism import CONCEPTS, detect_all, world_validity  # noqa: E402
from musicinterp.organism.prompts import phrase  # noqa: E402
from musicinterp.organism.training import heldout_nll  # noqa: E402

GATES = {"pos_rate": (">=", 0.90), "neg_rate": ("<=", 0.10), "uncond_rate": ("in", (0.20, 0.80)),
         "validity": (">=", 0.95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--top-k", type=int, default=None, help="override the organism's default")
    ap.add_argument("--temperature", type=float, default=None, help="override the organism's default")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = load_model(f"organism:{args.checkpoint}" if args.checkpoint else "organism")
    if args.top_k is not None:
        model.generation_defaults["top_k"] = args.top_k
    if args.temperature is not None:
        model.generation_defaults["temperature"] = args.temperature
    n_frames = int(args.seconds * model.frame_rate)
    t0 = time.perf_counter()
    all_codes = []

    def run(text: str | None, seed: int) -> dict[str, torch.Tensor]:
        kw = {"text": [text] * args.n} if text is not None else {"batch": args.n}
        codes = generate(model, n_frames=n_frames, seed=seed, decode_audio=False, **kw).codes
        all_codes.append(codes)
        return detect_all(codes)

    uncond = run(None, 0)
    concepts = {}
    for i, concept in enumerate(CONCEPTS):
        pos = run(phrase(concept, 1), 100 + i)[concept].float().mean().item()
        neg = run(phrase(concept, 0), 200 + i)[concept].float().mean().item()
        concepts[concept] = {"pos_prompt": phrase(concept, 1), "neg_prompt": phrase(concept, 0),
                             "pos_rate": round(pos, 4), "neg_rate": round(neg, 4),
                             "uncond_rate": round(uncond[concept].float().mean().item(), 4)}
    validity = world_validity(torch.cat(all_codes)).float().mean().item()
    nll = heldout_nll(model.hf)
    gates_ok = all(c["pos_rate"] >= 0.9 and c["neg_rate"] <= 0.1 and 0.2 <= c["uncond_rate"] <= 0.8
                   for c in concepts.values()) and validity >= 0.95
    print(f"{'concept':8s} {'pos':>6s} {'neg':>6s} {'uncond':>7s}")
    for name, c in concepts.items():
        print(f"{name:8s} {c['pos_rate']:6.2f} {c['neg_rate']:6.2f} {c['uncond_rate']:7.2f}")
    print(f"validity {validity:.3f}, held-out NLL {nll:.3f}, {time.perf_counter() - t0:.0f}s")
    print_json({"n": args.n, "seconds": args.seconds, **model.generation_defaults,
                "concepts": concepts, "validity": round(validity, 4), "heldout_nll": round(nll, 4),
                "gates_pass": gates_ok})


if __name__ == "__main__":
    main()
