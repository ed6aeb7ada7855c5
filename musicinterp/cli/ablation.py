"""``musicinterp ablate|patch``: ablation and patching sweeps from the command line.

Each writes the result (``sweep.safetensors`` + ``sweep.json``), a figure (HTML,
plotly inlined) and prints the result and its top cells.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.sources import world_of


def _load_codes(path: str) -> Any:
    from safetensors.torch import load_file

    tensors = load_file(path)
    if "codes" not in tensors:
        raise InputError(f"{path} holds no 'codes' tensor (keys: {', '.join(tensors) or 'none'})")
    return tensors["codes"]


def _data(model: Any, args: argparse.Namespace) -> Any:
    """Teacher-forced inputs from --codes, --audio or --organism-clips, with --text and --branch."""

    from ..ablation.inputs import teacher_forced

    sources = [x for x in (args.codes, args.audio, args.organism_clips) if x]
    if len(sources) != 1:
        raise InputError("give exactly one of --codes FILE, --audio FILE..., --organism-clips N")
    kw = {"text": args.text, "branch": args.branch, "guidance_scale": args.guidance}
    if args.codes:
        return teacher_forced(model, _load_codes(args.codes), **kw)
    if args.audio:
        return teacher_forced(model, audio=args.audio, **kw)
    codes = world_of(model).clips(args.organism_clips, n_frames=int(args.seconds * 50), seed=args.seed)
    return teacher_forced(model, codes, **kw)


def _finish(result: Any, out: str, figure: Any) -> None:
    from ..views.offline import save_figure_html

    folder = result.save(out)
    save_figure_html(figure, Path(folder) / "sweep.html")
    print(result)
    print(json.dumps({"top": [{"cell": list(map(str, cell)), "score": round(score, 4)}
                              for cell, score in result.top(5)], "out": str(folder)}))


def _figure(result: Any) -> Any:
    from ..views.ablation import layer_bars, sweep_heatmap

    return layer_bars(result) if len(result.axes) == 1 else sweep_heatmap(result)


def _cmd_ablate(args: argparse.Namespace) -> int:
    from ..ablation.ablate import ablate
    from ..models import load_model
    from ..store import ActivationStore

    model = load_model(args.model)
    store = ActivationStore.open(args.store, model=model) if args.store else None
    result = ablate(model, _data(model, args), site=args.site, mode=args.mode, over=tuple(args.over),
                    metric=args.metric, store=store, window=args.window, frame_bin=args.frame_bin,
                    max_rows=args.max_rows)
    _finish(result, args.out, _figure(result))
    return 0


def _cmd_patch(args: argparse.Namespace) -> int:
    from ..ablation.pairs import clip_pair, prompt_pair
    from ..ablation.patching import patch
    from ..models import load_model

    model = load_model(args.model)
    n = args.organism_clips or 8
    if args.concept:
        if args.pair == "prompts":
            pair = world_of(model).prompt_pair(model, args.concept, n, seed=args.seed, n_frames=int(args.seconds * 50),
                                                    branch=args.branch or "cond", guidance_scale=args.guidance)
        else:
            pair = world_of(model).clip_pair(model, args.concept, n, seed=args.seed, n_frames=int(args.seconds * 50),
                                                  text=args.text, branch=args.branch)
    elif args.clean_text is not None and args.corrupt_text is not None:
        data = _data(model, args)
        pair = prompt_pair(model, data.codes, args.clean_text, args.corrupt_text, branch=args.branch or "cond",
                           guidance_scale=args.guidance)
    elif args.codes and args.corrupt_codes:
        pair = clip_pair(model, _load_codes(args.codes), _load_codes(args.corrupt_codes), text=args.text,
                         branch=args.branch, guidance_scale=args.guidance)
    else:
        raise InputError("give --concept (organism pairs), --clean-text and --corrupt-text with clips, "
                         "or --codes and --corrupt-codes")
    result = patch(model, pair.clean, pair.corrupt, site=args.site, over=tuple(args.over), metric=args.metric,
                   direction=args.direction, window=args.window, frame_bin=args.frame_bin, max_rows=args.max_rows)
    _finish(result, args.out, _figure(result))
    return 0


def _common(p: argparse.ArgumentParser, site: str | None, metric: str) -> None:
    p.add_argument("--model", default="organism")
    p.add_argument("--site", default=site, help="attn_z, cross_z, mlp_out or resid" + (
        "" if site else " (default attn_z; none for --mode skip)"))
    p.add_argument("--over", nargs="+", default=["layer"], help="layer | layer head | layer frame | window ...")
    p.add_argument("--metric", default=metric, help="ce, kl or logit_diff:<organism concept>")
    p.add_argument("--window", type=int, default=1, help="sliding windows of this many consecutive layers")
    p.add_argument("--frame-bin", type=int, default=1, help="decoder positions per frame cell")
    p.add_argument("--codes", default=None, help="safetensors file with a 'codes' tensor (B, K, T)")
    p.add_argument("--audio", nargs="*", default=None, help="audio files (encoded with the model's codec)")
    p.add_argument("--organism-clips", type=int, default=None, help="use N organism world clips")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--text", nargs="*", default=None, help="prompt(s) conditioning the clips")
    p.add_argument("--branch", default=None, choices=["cond", "uncond", "guided"], help="CFG rows scored")
    p.add_argument("--guidance", type=float, default=None, help="guidance scale for --branch guided")
    p.add_argument("--max-rows", type=int, default=32, help="decoder rows per batched forward pass")


def add_ablation_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ablate", help="ablation sweep: knock out layers / heads / frames, score what breaks")
    _common(p, None, "ce")
    p.add_argument("--mode", default="mean", choices=["zero", "mean", "resample", "skip"])
    p.add_argument("--store", default=None, help="activation store whose statistics give the means (mode mean)")
    p.add_argument("--out", default="musicinterp_out/ablate")
    p.set_defaults(func=_cmd_ablate)

    p = sub.add_parser("patch", help="activation patching between clean and corrupt runs")
    _common(p, "resid", "kl")
    p.add_argument("--direction", default="denoise", choices=["denoise", "noise"])
    p.add_argument("--concept", default=None, help="organism concept for built-in pairs")
    p.add_argument("--pair", default="prompts", choices=["prompts", "clips"],
                   help="organism pairs: word swap on the same clips, or the same clips without the concept")
    p.add_argument("--clean-text", default=None)
    p.add_argument("--corrupt-text", default=None)
    p.add_argument("--corrupt-codes", default=None, help="safetensors 'codes' of the corrupt clips")
    p.add_argument("--out", default="musicinterp_out/patch")
    p.set_defaults(func=_cmd_patch)
