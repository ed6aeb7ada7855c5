"""FAD and KAD: closed forms on Gaussians, and the drums concept on organism renders.

(a) Gaussians: ``frechet_distance`` on exact population moments (diagonal and commuting
covariances, both the eigh and the sqrtm route) against the closed form
sum (sqrt(a) - sqrt(b))^2 + |mu1 - mu2|^2; KAD against a hand-computed MMD^2 on 3 + 3 points;
the mean of unbiased KAD over draws from one distribution (z-score, ~0) beside the biased V-statistic.
(b) Organism: N seeds rendered (4 s) with and without drums (same nuisance seeds,
``world.with_concept``). FAD and KAD between the two sets, and between the two halves of
the drumless set; the ratio is the target (>= 5); the full comparison is paired (clip i shares its seed). "matched" compares drums[:N/2] with
no-drums[N/2:], the same n as the halves. Embedders: log-mel of the rendered audio (the
organism's own: its codec is a synthesizer and its EnCodec has zero codebooks, so EnCodec latents
would be all zero) and the organism decoder's token embeddings.

    python benchmarks/audio_metrics.py [--n 64] [--seconds 4] [--n-boot 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.measures import (  # noqa: E402
    TokenEmbedder,
    embedding_distances,
    frechet_distance,
    kad,
    model_embedder,
)
from musicinterp.organism import OrganismWorld  # noqa: E402


def gaussian_checks(seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    errors = []
    for d in (1, 4, 16, 64):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        v1, v2 = rng.uniform(0.05, 4, d), rng.uniform(0.05, 4, d)
        exact = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        for method in ("eigh", "sqrtm"):
            errors.append(abs(frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2), method=method) - exact))
            errors.append(abs(frechet_distance(mu1, q * v1 @ q.T, mu2, q * v2 @ q.T, method=method) - exact))
    x, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)) + 1
    h = 0.9
    k = lambda p, r: np.exp(-np.sum((p - r) ** 2) / (2 * h * h))  # noqa: E731
    hand = (sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(3) for j in range(3) if i != j) / 6
            - 2 * sum(k(x[i], y[j]) for i in range(3) for j in range(3)) / 9)
    unbiased, biased = [], []
    for _ in range(400):
        a, b = rng.normal(size=(16, 4)), rng.normal(size=(16, 4))
        unbiased.append(kad(a, b, bandwidth=2.0))
        biased.append(kad(a, b, bandwidth=2.0, unbiased=False))
    return {"fad_closed_form_max_abs_error": float(max(errors)),
            "kad_hand_abs_error": float(abs(kad(x, y, bandwidth=h) - hand)),
            "kad_unbiased_mean_z": float(np.mean(unbiased) / (np.std(unbiased) / np.sqrt(len(unbiased)))),
            "kad_biased_mean_z": float(np.mean(biased) / (np.std(biased) / np.sqrt(len(biased))))}


def organism_sets(n: int, n_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    world = OrganismWorld(n_frames=n_frames)
    clips = [world.sample(seed) for seed in range(n)]
    with_drums = torch.stack([world.with_concept(c, "drums", 1).codes for c in clips])
    without = torch.stack([world.with_concept(c, "drums", 0).codes for c in clips])
    return with_drums, without


def compare(emb_with: np.ndarray, emb_without: np.ndarray, n_boot: int, name: str) -> dict[str, object]:
    half = len(emb_without) // 2
    full = embedding_distances(emb_with, emb_without, n_boot=n_boot, name=name, paired=True)
    matched = embedding_distances(emb_with[:half], emb_without[half:], n_boot=n_boot, name=name)
    halves = embedding_distances(emb_without[:half], emb_without[half:], n_boot=n_boot, name=name)
    print(f"  drums vs none: {full!r}\n  matched n:     {matched!r}\n  halves:        {halves!r}")
    return {"dim": full.dim,
            "fad_drums": full.fad, "fad_matched": matched.fad, "fad_halves": halves.fad,
            "fad_ratio": full.fad / halves.fad, "fad_ratio_matched": matched.fad / halves.fad,
            "fad_ci_drums": full.fad_ci.to_dict(), "fad_ci_halves": halves.fad_ci.to_dict(),
            "fad_inf_drums": full.fad_inf.value, "fad_inf_halves": halves.fad_inf.value,
            "kad_drums": full.kad.to_dict(), "kad_halves": halves.kad.to_dict()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    figures: dict[str, object] = {"gaussians": gaussian_checks()}
    print("gaussians:", figures["gaussians"])
    model = load_model("organism")
    with_drums, without = organism_sets(args.n, int(round(args.seconds * model.frame_rate)))
    for embedder in (model_embedder(model), TokenEmbedder(model)):
        t = time.perf_counter()
        emb_with, emb_without = embedder(with_drums), embedder(without)
        print(f"{embedder.name} ({time.perf_counter() - t:.1f} s to embed {2 * args.n} clips):")
        figures[embedder.name] = compare(emb_with, emb_without, args.n_boot, embedder.name)
    figures.update(n=args.n, seconds=args.seconds, n_boot=args.n_boot, model_embedder=model_embedder(model).name,
                   fad_ratio_target=5.0, wall_s=round(time.perf_counter() - t0, 1))
    print_json(figures)


if __name__ == "__main__":
    main()
