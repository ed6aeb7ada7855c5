"""``musicinterp organism ...``: train the organism and inspect its world."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from ..views.offline import save_figure_html
    from ..views.training import loss_curve_figure
    from .checkpoint import organism_out, save_organism
    from .config import OrganismConfig
    from .prompts import build_tokenizer
    from .training import heldout_nll, train_organism

    torch.set_num_threads(args.threads)
    out = organism_out(args.out)  # refused before training: inside the package, or a folder this did not write
    cfg = OrganismConfig(steps=args.steps, seed=args.seed, lr=args.lr)
    model, log = train_organism(cfg)
    nll = heldout_nll(model)
    extra = {"training": {"steps": log.steps, "loss": log.loss, "seconds": round(log.seconds, 1),
                          "threads": args.threads, "heldout_nll": round(nll, 4)}}
    save_organism(model, build_tokenizer(), cfg, out, extra)
    save_figure_html(loss_curve_figure(log.steps, log.loss), out / "loss_curve.html")
    print(f"trained {cfg.steps} steps in {log.seconds / 60:.1f} min; final loss {log.loss[-1]:.3f}, "
          f"held-out NLL {nll:.3f}; saved to {out}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from ..data.audio import write_wav
    from . import detect_all
    from .renderer import render_clip
    from .world import OrganismWorld

    world = OrganismWorld(int(args.seconds * 50))
    out = Path(args.out)
    for seed in range(args.seed, args.seed + args.n):
        clip = world.sample(seed)
        write_wav(out / f"clip_{seed}.wav", render_clip(clip.codes), 32000)
        det = {k: int(v[0]) for k, v in detect_all(clip.codes).items()}
        print(json.dumps({"seed": seed, "latents": clip.latents.as_dict(), "detected": det}))
    return 0


def _cmd_train_clap(args: argparse.Namespace) -> int:
    import torch

    from .clap_config import OrganismClapConfig
    from .clap_training import clap_out, save_organism_clap, train_organism_clap

    torch.set_num_threads(args.threads)
    out = clap_out(args.out)  # refused before any training: inside the package, or a folder not ours
    given = {"steps": args.steps, "n_train_clips": args.clips, "p_perturb": args.p_perturb}
    cfg = OrganismClapConfig(seed=args.seed, **{k: v for k, v in given.items() if v is not None})
    model, log = train_organism_clap(cfg, progress=not args.quiet)
    extra = {"training": {"steps": log.steps[-1] + 1 if log.steps else 0, "loss": log.loss,
                          "seconds": round(log.seconds, 1), "data_seconds": round(log.data_seconds, 1),
                          "threads": args.threads, "torch": torch.__version__}}
    save_organism_clap(model, cfg, out, extra)
    print(f"trained the organism CLAP ({cfg.n_train_clips} clips, {cfg.steps} steps) in {log.seconds / 60:.1f} min "
          f"on {args.threads} threads; final loss {log.loss[-1]:.3f}; saved to {out}")
    return 0


def add_organism_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("organism", help="the model organism: train it, sample its world")
    osub = p.add_subparsers(dest="organism_command", required=True)
    t = osub.add_parser("train", help="train the organism on CPU (writes safetensors + JSON)")
    t.add_argument("--out", default=None, help="checkpoint folder (default: musicinterp_out/organism here; the shipped checkpoint "
                                                    "is read-only)")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2)
    t.set_defaults(func=_cmd_train)
    c = osub.add_parser("train-clap", help="train the organism CLAP on CPU (seeded; never into the package)")
    c.add_argument("--out", default=None, help="checkpoint folder (default: musicinterp_out/organism_clap here)")
    c.add_argument("--steps", type=int, default=None, help="training steps (default: as for the shipped checkpoint)")
    c.add_argument("--clips", type=int, default=None, help="rendered training clips (default: as for the shipped checkpoint)")
    c.add_argument("--p-perturb", type=float, default=None,
                   help="share of clips with voices rewritten, labelled by the detectors (default: as shipped, 0.5)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=_cmd_train_clap)
    s = osub.add_parser("sample", help="render world clips to WAV with their latents")
    s.add_argument("--out", default="musicinterp_out/world")
    s.add_argument("--n", type=int, default=4)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--seconds", type=float, default=4.0)
    s.set_defaults(func=_cmd_sample)
