"""The demo's SMITIN monitors (calibrated on held-out continuations) and its listening section.

:func:`calibrate_monitors` fits each SMITIN steerer's tau with
:func:`~musicinterp.steering.calibrate_monitor` before the comparison, so the monitor
that runs in the comparison and in the listening continuations is the calibrated one.
:func:`listen` generates four held-out continuations unsteered and under each
method's best setting, writes the WAVs, and returns the codes views, the monitor
figures and the facts the captions quote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..data.audio import write_wav
from ..models.musicgen import MusicGen

CALIBRATE_AT = {"smitin": 25.0, "smitin-s5": 60.0}  # the strengths the sweeps reach (interval 2 and 5)
ROLES = ("lead", "drums", "brightness", "bass")


def _judge(model: MusicGen, target: str):
    """The world's judge of ``target`` as codes -> presence per clip (the organism's: its exact detector)."""
    judge = next(j for j in model.world.judges() if j.concept == target)
    return lambda codes: torch.as_tensor(judge(codes).present)


def calibrate_monitors(model: MusicGen, steerers: dict[str, Any], target: str, remove: bool, frames: int,
                       n: int = 12) -> dict[str, dict[str, Any]]:
    """Calibrate tau of every SMITIN steerer on ``n`` held-out continuations; per method: tau, whether it was
    calibrated, and the reason when it could not be (the monitor then keeps its validation tau)."""
    held_out = model.world.tasks(target, n=n, seed=1, add=not remove, prompt_frames=frames, new_frames=frames)[0]
    out = {}
    for name, strength in CALIBRATE_AT.items():
        if name not in steerers:
            continue
        try:
            cal = steerers[name].calibrate_monitor(model, judge=_judge(model, target), strength=strength,
                                                   decode_audio=False, **held_out.kwargs)
            out[name] = {"tau": float(cal.tau), "calibrated": True, "note": "",
                         "balanced_accuracy": float(cal.balanced_accuracy)}
        except ValueError as err:
            out[name] = {"tau": float(steerers[name].config.tau), "calibrated": False, "note": str(err)}
        print(f"      {name} monitor: tau {out[name]['tau']:.3f}"
              + ("" if out[name]["calibrated"] else f" (validation tau: {out[name]['note']})"))
    return out


def _monitor_facts(trace: Any, calibration: dict[str, Any], rows: slice) -> tuple[dict[str, Any], int]:
    """Stops among the block's prompts; the prompt to show (the first that stops, else the highest reading)."""
    stops = trace.stop_step()[rows]
    readings, _ = trace.as_tensors()
    stopped = int((stops >= 0).sum())
    pick = int((stops >= 0).nonzero()[0]) if stopped else int(readings[:, rows].max(0).values.argmax())
    peak = float(readings[:, rows].max())
    why = (f"its highest reading, {peak:.2f}, stayed below tau = {trace.tau:.2f}; the steered heads move the "
           f"concept more slowly than the monitor's threshold assumes at this strength")
    facts = {**calibration, "tau": float(trace.tau), "stopped": stopped, "n": rows.stop - rows.start,
             "stop_step": int(stops[pick]), "why": why}
    return facts, rows.start + pick


def listen(model: MusicGen, steerers: dict[str, Any], picks: list[dict[str, Any]], target: str, remove: bool,
           audio: Path, frames: int, calibration: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict]:
    """Four continuations unsteered and under every method's best setting, as rows of one generation (each
    steerer at its strength in its own block of rows, 0 elsewhere): WAVs, codes views, monitor traces."""
    import musicinterp as mi

    from ..views.codes import codes_pair_figure

    cont = model.world.tasks(target, n=4, seed=99, add=not remove, prompt_frames=frames, new_frames=frames)[0]
    n, blocks = cont.n, 1 + len(picks)
    strengths = [torch.zeros(blocks * n) for _ in picks]
    for i, pick in enumerate(picks):
        strengths[i][(i + 1) * n:(i + 2) * n] = pick["strength"]
    res = mi.steer(model, [steerers[p["method"]] for p in picks], strength=strengths, seed=0,
                   prompt_codes=cont.kwargs["prompt_codes"].repeat(blocks, 1, 1), batch=blocks * n,
                   n_frames=cont.kwargs["n_frames"])
    figures: dict[str, Any] = {}
    facts: dict[str, Any] = {"monitors": {}, "listen": {"present": [{} for _ in range(n)]}}
    judge = _judge(model, target)
    present = judge(res.codes[..., res.prompt_frames:])
    methods = [p["method"] for p in picks]
    for i in range(n):
        write_wav(audio / f"continuation_{i}" / "0_unsteered.wav", res.audio[i], model.sample_rate)
        facts["listen"]["present"][i]["unsteered"] = bool(present[i])
        steered = {m: res.codes[(b + 1) * n + i] for b, m in enumerate(methods)}
        figures[f"listen/continuation_{i}_codes"] = codes_pair_figure(
            res.codes[i], steered, res.prompt_frames, frame_rate=model.frame_rate, roles=ROLES,
            title=f"continuation {i}: unsteered (grey) and steered (colour)")
    for b, (method, log_name) in enumerate(zip(methods, res.logs, strict=True), start=1):
        for i in range(n):
            write_wav(audio / f"continuation_{i}" / f"{b}_{method}.wav", res.audio[b * n + i], model.sample_rate)
            facts["listen"]["present"][i][method] = bool(present[b * n + i])
        if log_name in res.monitors and method in calibration:
            mon, prompt = _monitor_facts(res.monitors[log_name], calibration[method], slice(b * n, (b + 1) * n))
            facts["monitors"][method] = mon
            figures[f"monitors/monitor_{method}"] = mi.monitor_trace_figure(
                res.monitors[log_name], prompt=prompt, title=f"{method}: continuation {prompt - b * n}")
    return figures, facts
