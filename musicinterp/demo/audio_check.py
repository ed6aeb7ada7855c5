"""What an audio judge hears in the demo's best settings, beside the exact detector.

On a real MusicGen success is read from audio (CLAP zero-shot, FAD); on the organism
the exact detector reads the codes. For each task and each method at its best
setting, the world's CLAP judge of the target concept reads the rendered audio of
the same generations the detector read, and CLAP embeddings give FAD, KAD and the
preservation distance against the unsteered continuations of the same prompts. A
reader sees on one table how far the audio measures follow the truth. FAD at a
demo's few clips is biased: it is reported with its bootstrap interval, and the
per-prompt preservation distance beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..compare.preservation import measure_fields
from ..models.sources import world_of

UNSTEERED = "unsteered"


def clap_check(model: Any, comp: Any, best: dict[str, list[dict[str, Any]]], tasks: Sequence[Any],
               target: str, remove: bool) -> dict[str, dict[str, dict[str, float]]]:
    """``{task: {method: {"detector", "clap", "fad_clap", ..., "distance_clap"}}}`` for each best row that kept
    its result (``compare(keep_results=True)``), and ``"unsteered"`` (detector and CLAP only); empty where the
    world has no CLAP judge of ``target``."""
    world = world_of(model)
    judge = next((j for j in world.clap_judges() if j.concept == target), None)
    embedders = world.clap_measures(model)
    if judge is None:
        return {}
    frames = {t.name: t.prompt_frames for t in tasks}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for task, rows in best.items():
        base = comp.baseline_codes.get(task)
        pf = frames.get(task, 0)
        base_emb = {e.name: np.asarray(e(base[..., pf:])) for e in embedders} if base is not None else {}
        if base is not None:  # what CLAP hears without steering, beside the unsteered row
            rate = judge(base[..., pf:], decoder=model).rate
            out.setdefault(task, {})[UNSTEERED] = {"detector": round(float(comp.unsteered[task]["success"]), 4),
                                                   "clap": round(1.0 - rate if remove else rate, 4)}
        for row in rows:
            res = row.get("result")
            if res is None:
                continue
            gen = res.codes[..., pf:]
            rate = judge(gen, decoder=model).rate
            fields = {"detector": float(row["success"]), "clap": 1.0 - rate if remove else rate}
            if base_emb:
                fields.update(measure_fields({e.name: np.asarray(e(gen)) for e in embedders}, base_emb))
            out.setdefault(task, {})[row["method"]] = {k: round(float(v), 4) for k, v in fields.items()}
    return out


def agreement(check: dict[str, dict[str, dict[str, float]]], within: float = 0.10) -> tuple[int, int]:
    """How many best settings CLAP's success lies within ``within`` of the detector's, of how many (the
    unsteered rows left out)."""
    cells = [m for by in check.values() for k, m in by.items() if k != UNSTEERED]
    return sum(abs(m["clap"] - m["detector"]) <= within for m in cells), len(cells)
