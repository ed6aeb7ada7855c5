"""``musicinterp fit|steer|compare``: the steering workflow from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..data.names import safe_name
from ..errors import InputError
from ..judges import judge_all
from ..models.sources import world_of


def _cmd_fit(args: argparse.Namespace) -> int:
    from ..steering import METHODS, config_from_overrides
    from ..store import ActivationStore

    if args.method not in METHODS:
        raise InputError(f"unknown method {args.method!r}; choose {', '.join(METHODS)}")
    cls, config_cls = METHODS[args.method]
    store = ActivationStore.open(args.store)
    steerer = cls.fit(store, args.concept, config_from_overrides(config_cls, args.set or []))
    out = steerer.save(args.out)
    print(f"fitted {args.method} for {args.concept!r} from {store.root}; saved to {out}")
    return 0


def _cmd_steer(args: argparse.Namespace) -> int:
    from safetensors.torch import save_file

    from ..data.audio import write_wav
    from ..models import load_model
    from ..steering import Steerer, steer
    from ..views.steering import monitor_trace_figure

    model = load_model(args.model)
    steerers = [Steerer.load(p, model) for p in args.steerers]
    kw: dict[str, Any] = {"n_frames": int(args.seconds * model.frame_rate), "seed": args.seed}
    if args.text is not None:
        kw["text"] = args.text
    else:
        kw["batch"] = args.batch
    if args.prompt_audio:
        kw["prompt_audio"] = args.prompt_audio
    strengths = args.strength if args.strength else None
    res = steer(model, steerers, strength=strengths, **kw)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({"codes": res.codes.contiguous()}, str(out / "codes.safetensors"))
    for i, wav in enumerate(res.audio):
        write_wav(out / f"sample_{i}.wav", wav, model.sample_rate)
    for name, trace in res.monitors.items():
        from ..views.offline import save_figure_html

        save_figure_html(monitor_trace_figure(trace, title=f"{name} monitor"),
                         out / f"monitor_{safe_name(name.replace(':', '_'), field='monitor')}.html")
    logs = {name: {"steps": log.steps, "strengths": log.strengths} for name, log in res.logs.items()}
    (out / "steering_log.json").write_text(json.dumps(logs))
    world = world_of(model)
    if world.exact:  # ground truth per clip, where the world's judges read it from codes
        results = judge_all(world.judges(), res.new_codes)
        print(json.dumps({"detected": {r.concept: r.present.astype(int).tolist() for r in results.values()}}))
    print(f"wrote {len(res.audio)} samples, codes {tuple(res.codes.shape)} and logs to {out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..demo.run import run_comparison_job

    run_comparison_job(args.out, target=args.target, n=args.n, quick=args.quick, remove=args.remove)
    return 0


def add_steering_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit a steering method from a store")
    p.add_argument("method", help="iti, smitin, diffmeans or regression")
    p.add_argument("store")
    p.add_argument("--concept", required=True)
    p.add_argument("--out", required=True, help="folder for the steerer (safetensors + JSON)")
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="config fields, e.g. strength=10 k=16 (values are checked against the config)")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("steer", help="generate with one or more fitted steerers")
    p.add_argument("steerers", nargs="+", help="steerer folders")
    p.add_argument("--model", default="organism")
    p.add_argument("--text", nargs="*", default=None, help="prompts (one generation each)")
    p.add_argument("--batch", type=int, default=4, help="unconditional generations when no --text")
    p.add_argument("--prompt-audio", default=None, help="continue this audio file")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--strength", nargs="*", type=float, default=None, help="one per steerer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="musicinterp_out/steer")
    p.set_defaults(func=_cmd_steer)

    p = sub.add_parser("compare", help="compare all methods on the organism against ground truth")
    p.add_argument("--target", default="drums")
    p.add_argument("--n", type=int, default=16, help="generations per task and setting")
    p.add_argument("--remove", action="store_true", help="remove the concept instead of adding it")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="musicinterp_out/compare")
    p.set_defaults(func=_cmd_compare)
