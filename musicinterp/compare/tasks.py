"""Tasks for method comparison: user-defined generation settings shared by every method, and running them.

A :class:`Task` holds the keyword arguments of one :func:`musicinterp.generate`
call (prompts, batch, length), the number of prompt frames (continuations) and
an optional seed. Every method, and the unsteered baseline, runs on exactly
these. :func:`text_task` and :func:`continuation_task` build tasks for any
model; a world gives its default tasks (``model.world.tasks``). :func:`run_task`
generates a task unsteered and at every steerer's every strength (as rows of one batch by default);
:func:`layer_variants` gives the layer protocol of a residual method's sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from ..engine.generation import generate
from ..engine.settings import take_rows, task_batch, tile  # noqa: F401  (re-exported: task helpers)
from ..errors import InputError
from ..models.musicgen import MusicGen
from ..steering import ApplySpec, Steerer, steer

DEFAULT_MAX_ROWS = 96  # rows of one comparison generation: on CPU a row costs the same up to ~64 rows, 1.6x at 256


@dataclass
class Task:
    """One generation setting shared by every method (``seed``: ``None`` takes the comparison's seed)."""

    name: str
    kwargs: dict[str, Any]
    prompt_frames: int = 0
    seed: int | None = None

    @property
    def n(self) -> int:
        """Generations per method and strength."""
        return task_batch(self.kwargs)

    @property
    def is_continuation(self) -> bool:
        return self.prompt_frames > 0


def _check_frames(n_frames: int) -> int:
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1:
        raise InputError(f"n_frames must be a positive int (frames to generate), got {n_frames!r}")
    return n_frames


def text_task(name: str, prompts: str | Sequence[str], *, n_frames: int, n: int | None = None,
              seed: int | None = None, **generate_kwargs: Any) -> Task:
    """Generations from text prompts (``n`` repeats a single prompt; ``""`` is unconditional text)."""
    if isinstance(prompts, str):
        prompts = [prompts] * (1 if n is None else n)
    prompts = list(prompts)
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise InputError("prompts must be a non-empty string or list of strings")
    if n is not None and n != len(prompts):
        raise InputError(f"n={n} but {len(prompts)} prompts were given (pass one prompt to repeat it n times)")
    return Task(name, {"text": prompts, "n_frames": _check_frames(n_frames), **generate_kwargs}, seed=seed)


def continuation_task(name: str, prompt_codes: torch.Tensor, *, n_frames: int, text: Sequence[str] | None = None,
                      seed: int | None = None, **generate_kwargs: Any) -> Task:
    """Continuations of ``prompt_codes`` ``(B, K, T)`` (encode audio first with ``model.audio_to_codes``)."""
    codes = torch.as_tensor(prompt_codes)
    if codes.dim() != 3 or codes.shape[0] < 1 or codes.shape[-1] < 1:
        raise InputError(f"prompt_codes must be (B, K, T) codes, got shape {tuple(codes.shape)}")
    kwargs: dict[str, Any] = {"prompt_codes": codes, "n_frames": _check_frames(n_frames), **generate_kwargs}
    if text is not None:
        if len(text) != codes.shape[0]:
            raise InputError(f"text has {len(text)} prompts for {codes.shape[0]} prompt clips")
        kwargs["text"] = list(text)
    else:
        kwargs["batch"] = int(codes.shape[0])
    return Task(name, kwargs, int(codes.shape[-1]), seed=seed)


@dataclass
class SettingResult:
    """One strength setting's share of a (possibly batched) steered generation."""

    codes: torch.Tensor
    steps_edited: float
    readings: torch.Tensor | None = None  # (steps, n) monitor readings
    tau: float = 0.5
    warmup: int = 0
    edited: torch.Tensor | None = None  # (steps,) bool, monitored methods: a step that edited some row


def _joined(parts: list[SettingResult]) -> SettingResult:
    """One setting's results on consecutive parts of a task's prompts, as one result on all of them."""
    first = parts[0]
    if len(parts) == 1:
        return first
    codes = torch.cat([p.codes for p in parts])
    if first.edited is None:  # a steerer without a monitor acts on the same steps in every part
        return SettingResult(codes, max(p.steps_edited for p in parts))
    edited = torch.stack([p.edited for p in parts]).any(0)
    return SettingResult(codes, float(edited.sum()), torch.cat([p.readings for p in parts], 1), first.tau,
                         first.warmup, edited)


def setting_fields(res: SettingResult) -> dict[str, float]:
    """Steps edited and, for monitored methods, the monitor's final reading and how often it reached tau."""
    out = {"steps_edited": res.steps_edited}
    if res.readings is not None:
        out["monitor_final"] = float(res.readings[-1].mean())
        # prompts whose monitor read the trait as present (reading >= tau) at some step after warm-up
        out["monitor_reached_tau"] = float((res.readings[res.warmup:] >= res.tau).any(0).float().mean())
    return out


def run_task(model: MusicGen, steerers: dict[str, Steerer], strengths: dict[str, Sequence[float]], task: Task,
             seed: int, batched: bool = True, max_rows: int | None = DEFAULT_MAX_ROWS, paired: bool = True
             ) -> tuple[torch.Tensor, dict[str, list[SettingResult]]]:
    """One task's unsteered codes and every steerer's generations at every strength.

    ``batched`` (the default) runs every setting of every steerer, and the unsteered
    baseline, as rows of one generation: each steerer gets its own strength per row
    (0 outside its block, which leaves those rows untouched), so greedy decoding gives
    the same codes as one setting at a time. ``max_rows`` caps the rows of one
    generation (whole steerers are kept together; ``None``: no cap). ``paired``
    samples prompt ``i`` of every setting with the same keyed noise (common random
    numbers, :mod:`musicinterp.engine.sampling`), so sampled codes too are the same batched
    or not, and settings differ by what steering does rather than by sampling luck.
    """
    keys = list(range(task.n)) if paired else None
    if not batched:
        once = {"seed": seed, "decode_audio": False, "row_keys": keys, **task.kwargs}
        unsteered = generate(model, **once).codes
        return unsteered, {name: [_as_setting(steer(model, st, strength=s, **once), float(s)) for s in strengths[name]]
                           for name, st in steerers.items()}
    parts = [_run_batched(model, steerers, strengths, task, seed, max_rows, paired, start, stop)
             for start, stop in prompt_parts(task.n, max_rows, paired)]
    return (torch.cat([base for base, _ in parts]),
            {name: [_joined([out[name][i] for _, out in parts]) for i in range(len(strengths[name]))]
             for name in steerers})


def prompt_parts(n: int, max_rows: int | None, paired: bool) -> list[tuple[int, int]]:
    """``(start, stop)`` prompt ranges generated apart: all ``n`` at once unless the baseline and one setting
    (``2n`` rows) pass ``max_rows``, then ``max_rows // 2`` prompts a part. Only paired sampling is split: each
    row's noise comes from its prompt's key, so the parts give the same codes as one generation."""
    if max_rows is None or not paired or 2 * n <= max_rows:
        return [(0, n)]
    return _ranges(n, max_rows // 2)


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of at most ``size`` (at least 1) covering ``0..n``."""
    size = max(1, size)
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _run_batched(model: MusicGen, steerers: dict[str, Steerer], strengths: dict[str, Sequence[float]], task: Task,
                 seed: int, max_rows: int | None, paired: bool, start: int, stop: int
                 ) -> tuple[torch.Tensor, dict[str, list[SettingResult]]]:
    """Prompts ``start:stop`` of ``task``: the baseline and every setting, packed into generations of at most
    ``max_rows`` rows (whole steerers together), each prompt sampled with its own key."""
    part = replace(task, kwargs=take_rows(task.kwargs, start, stop)) if (start, stop) != (0, task.n) else task
    base: torch.Tensor | None = None
    out: dict[str, list[SettingResult]] = {}
    for group in _groups([(name, len(strengths[name])) for name in steerers], part.n, max_rows):
        codes, results = _one_batch(model, {name: steerers[name] for name in group}, strengths, part, seed,
                                    with_baseline=base is None, paired=paired, first_key=start)
        base = codes if base is None else base
        out.update(results)
    if base is None:  # no steerers: the baseline alone
        keys = list(range(start, stop)) if paired else None
        base = generate(model, seed=seed, decode_audio=False, row_keys=keys, **part.kwargs).codes
    return base, out


def resampled_baseline(model: MusicGen, task: Task, seed: int, paired: bool = True,
                       max_rows: int | None = None) -> torch.Tensor:
    """``task`` generated unsteered with other noise than :func:`run_task`'s baseline: keys ``n..2n-1``
    when paired, else the next seed. Scored against the baseline it gives the sampling noise floor.
    Paired, at most ``max_rows`` prompts are generated at once."""
    if not paired:
        return generate(model, seed=seed + 1, decode_audio=False, **task.kwargs).codes
    n = task.n
    return torch.cat([generate(model, seed=seed, decode_audio=False, row_keys=list(range(n + a, n + b)),
                               **take_rows(task.kwargs, a, b)).codes
                      for a, b in _ranges(n, n if max_rows is None else max_rows)])


def _groups(sizes: list[tuple[str, int]], n: int, max_rows: int | None) -> list[list[str]]:
    """Steerer names (with their sweep lengths) packed in order into generations of at most ``max_rows`` rows;
    the first also holds the ``n`` baseline rows; a sweep larger than the cap gets a generation of its own."""
    groups: list[list[str]] = [[]]
    rows = n
    for name, k in sizes:
        if groups[-1] and max_rows is not None and rows + k * n > max_rows:
            groups.append([])
            rows = 0
        groups[-1].append(name)
        rows += k * n
    return [group for group in groups if group]


def _one_batch(model: MusicGen, steerers: dict[str, Steerer], strengths: dict[str, Sequence[float]], task: Task,
               seed: int, with_baseline: bool, paired: bool = True, first_key: int = 0
               ) -> tuple[torch.Tensor | None, dict[str, list[SettingResult]]]:
    """Blocks of ``task.n`` rows, one per (steerer, strength) and optionally a first unsteered one; prompt ``i``
    is sampled with key ``first_key + i``."""
    n = task.n
    blocks = [(name, float(s)) for name in steerers for s in strengths[name]]
    if with_baseline:
        blocks.insert(0, ("", 0.0))
    per_steerer = [torch.tensor([s if owner == name else 0.0 for owner, s in blocks]).repeat_interleave(n)
                   for name in steerers]
    keys = list(range(first_key, first_key + n)) * len(blocks) if paired else None
    res = steer(model, list(steerers.values()), strength=per_steerer, seed=seed, decode_audio=False, row_keys=keys,
                **tile(task.kwargs, len(blocks)))
    log_names = list(res.logs)  # one log per steerer, in order (a repeated method name gets a #i suffix)
    out: dict[str, list[SettingResult]] = {name: [] for name in steerers}
    for name, log_name in zip(steerers, log_names, strict=True):
        trace = res.monitors.get(log_name)
        readings, used = trace.as_tensors() if trace is not None else (None, None)
        for j, (owner, strength) in enumerate(blocks):
            if owner != name:
                continue
            rows = slice(j * n, (j + 1) * n)
            if used is not None:
                edited = (used[:, rows] > 0).any(1)
                out[name].append(SettingResult(res.codes[rows], float(edited.sum()), readings[:, rows], trace.tau,
                                               trace.warmup, edited))
            else:
                acted = float(len(res.logs[log_name].steps)) if strength else 0.0
                out[name].append(SettingResult(res.codes[rows], acted))
    return (res.codes[:n] if with_baseline else None), out


def _as_setting(res: Any, strength: float) -> SettingResult:
    """One setting's generation; steps edited count only steps that changed something (none at strength 0)."""
    trace = next(iter(res.monitors.values()), None)
    steps = sum(len(log.steps) for log in res.logs.values()) / max(1, len(res.logs)) if strength else 0.0
    if trace is None:
        return SettingResult(res.codes, steps)
    readings, used = trace.as_tensors()
    return SettingResult(res.codes, float((used > 0).any(1).sum()), readings, trace.tau, trace.warmup)


def layer_variants(name: str, steerer: Steerer, best_layers: Sequence[int], n_layers: int) -> dict[str, Steerer]:
    """TADA's protocol for a residual method: the same steerer at all layers, at the localised best layers
    (e.g. from an ablation sweep), and at their complement, named ``name@all``, ``name@best``, ``name@rest``.
    """
    if steerer.site != "resid":
        raise InputError(f"layer_variants is for residual methods; steerer {name!r} acts on {steerer.site!r}")
    best = sorted({int(x) for x in best_layers})
    if not best or best[0] < 0 or best[-1] >= n_layers or len(best) == n_layers:
        raise InputError(f"best_layers must be some but not all of 0..{n_layers - 1}, got {list(best_layers)}")
    rest = [layer for layer in range(n_layers) if layer not in best]
    return {f"{name}@{part}": replace(steerer, spec=steerer.spec.merge(ApplySpec(layers=layers)))
            for part, layers in (("all", list(range(n_layers))), ("best", best), ("rest", rest))}
