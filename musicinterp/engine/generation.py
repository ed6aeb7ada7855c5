"""Generation through nnsight with per-step interventions addressed by step and CFG rows.

``generate`` runs MusicGen's own ``generate`` inside one nnsight trace. Step 0
is the first generated frame (the discarded prefill pass is skipped), codes
come back as ``(B, K, T)`` with the delay pattern undone, and audio is decoded
by the model's codec (EnCodec, or the organism's renderer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers.generation.stopping_criteria import StoppingCriteria, StoppingCriteriaList

from ..data.audio import load_audio
from ..errors import InputError
from ..models.codec import codec_decode_skipped
from ..models.delay import frames_to_new_tokens
from ..models.musicgen import DISCARDED_PREFILL_PASSES, MusicGen
from .active import prepare_active
from .interventions import Intervention, plan
from .sampling import check_row_keys, keyed_processors
from .settings import PromptInput, Sampling, split_settings

StepCallback = Callable[[int, int], None]  # (step, prompts in the batch)


class _SequenceRecorder(StoppingCriteria):
    """Keeps the decoder sequence after each appended token; never stops generation.

    MusicGen's conditional ``generate`` returns audio only (and does not pass its
    streamer on), but stopping criteria see every step's full token sequence.
    """

    def __init__(self) -> None:
        self.sequence: torch.Tensor | None = None

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        self.sequence = input_ids
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


@dataclass
class GenerationResult:
    """Codes ``(B, K, T)`` (prompt frames first), audio ``(B, samples)``, and what steering did.

    ``logs`` maps each active steerer (``method:concept``) to the steps it
    edited and its strengths; ``monitors`` to its monitor trace, if any.
    """

    codes: torch.Tensor
    prompt_frames: int
    audio: np.ndarray | None
    sample_rate: int
    steps: int
    logits: torch.Tensor | None = None  # (steps, rows, K, V) when recorded
    logs: dict[str, Any] = field(default_factory=dict)
    monitors: dict[str, Any] = field(default_factory=dict)

    @property
    def new_codes(self) -> torch.Tensor:
        """Only the generated frames."""
        return self.codes[..., self.prompt_frames:]

    def __repr__(self) -> str:
        b, k, t = self.codes.shape
        audio = "none" if self.audio is None else f"{self.audio.shape[-1] / self.sample_rate:.2f} s at {self.sample_rate} Hz"
        steered = f", steered by {', '.join(self.logs)}" if self.logs else ""
        return (f"GenerationResult({b} x {k} codebooks x {t} frames ({self.prompt_frames} prompt), "
                f"audio {audio}{steered})")

    def _repr_html_(self) -> str:
        from ..data.players import audio_players_html

        head = repr(self).replace("&", "&amp;").replace("<", "&lt;")
        if self.audio is None:
            return f"<pre>{head}</pre>"
        return f"<pre>{head}</pre>" + audio_players_html(self.audio, self.sample_rate)

    def play(self, index: int = 0):
        """An IPython audio player for one generation."""
        from IPython.display import Audio

        if self.audio is None:
            raise InputError("this generation has no audio (generated with decode_audio=False)")
        return Audio(self.audio[index], rate=self.sample_rate)


def _prompt_codes(model: MusicGen, prompt: PromptInput, batch: int) -> torch.Tensor | None:
    prompt_codes, prompt_audio = prompt.prompt_codes, prompt.prompt_audio
    if prompt_audio is not None:
        if prompt_codes is not None:
            raise InputError("give prompt_codes or prompt_audio, not both")
        if isinstance(prompt_audio, (str, Path)):
            prompt_audio = load_audio(prompt_audio, model.sample_rate).samples
        prompt_codes = model.audio_to_codes(prompt_audio)
    if prompt_codes is None:
        return None
    prompt_codes = model.check_codes(torch.as_tensor(prompt_codes), "prompt_codes")
    if prompt_codes.shape[0] == 1 and batch > 1:
        prompt_codes = prompt_codes.expand(batch, -1, -1)
    if prompt_codes.shape[0] != batch:
        raise InputError(f"prompt_codes have {prompt_codes.shape[0]} rows for a batch of {batch}")
    return prompt_codes


@torch.no_grad()
def generate(
    model: MusicGen,
    *,
    prompt: PromptInput | None = None,
    sampling: Sampling | None = None,
    n_frames: int | None = None,
    max_new_tokens: int | None = None,
    interventions: Sequence[Intervention] = (),
    callbacks: Sequence[StepCallback] = (),
    record_logits: bool = False,
    decode_audio: bool = True,
    traced: bool | None = None,
    **settings: Any,
) -> GenerationResult:
    """Generate ``n_frames`` new frames (or ``max_new_tokens`` decoder steps).

    What it starts from is a :class:`PromptInput`: conditioning ``text`` (needs
    a tokenizer), ``input_ids`` (+ ``attention_mask``) or nothing (unconditional,
    ``batch`` rows), and a continuation's ``prompt_codes`` or ``prompt_audio``.
    How it samples is a :class:`Sampling`: ``guidance_scale``, ``do_sample``,
    ``temperature``, ``top_k``, ``seed``, ``row_keys``. Each of those fields can
    also be passed as a loose keyword (``generate(model, text="x", seed=0,
    n_frames=50)``). ``interventions`` edit sites at their steps and rows;
    ``callbacks(step, batch)`` run at the end of each step inside the trace
    (monitors use them). Steerers held by ``with steerer.apply(model)`` add
    theirs. ``traced=False`` runs plain Hugging Face generation.
    """
    prompt, sampling = split_settings(prompt, sampling, settings)
    active, prepared = prepare_active(model)  # steerers held active by `with steerer.apply(model)`
    interventions = list(interventions) + [iv for p in prepared for iv in p.interventions]
    callbacks = list(callbacks) + [cb for p in prepared for cb in p.callbacks]
    sampling = sampling.resolved(model.generation_defaults)
    cond = model.conditioning(text=prompt.texts, input_ids=prompt.input_ids, attention_mask=prompt.attention_mask,
                              batch=prompt.inferred_batch())
    b = cond.batch
    start_codes = _prompt_codes(model, prompt, b)
    max_new_tokens = _new_tokens(model, n_frames, max_new_tokens)
    decoder_start = model.generation_start(b, start_codes)
    recorder = _SequenceRecorder()
    gen_kwargs = _hf_kwargs(cond.kwargs(), decoder_start.to(model.device), max_new_tokens, sampling, recorder, b)
    if sampling.seed is not None:
        torch.manual_seed(sampling.seed)
    steps = _active_steps(interventions, max_new_tokens, every_step=record_logits)
    logits: list[torch.Tensor] = []
    if (traced if traced is not None else bool(steps)):
        _traced_generate(model, partial(_drive, model), gen_kwargs, interventions, callbacks, steps, b,
                         sampling.guided, logits if record_logits else None)
    else:
        _drive(model, **gen_kwargs)
    codes = model.finish_generated(recorder.sequence, decoder_start, b)
    result = GenerationResult(
        codes=codes.cpu(), prompt_frames=0 if start_codes is None else start_codes.shape[-1],
        audio=model.codes_to_audio(codes) if decode_audio else None, sample_rate=model.sample_rate,
        steps=max_new_tokens, logits=torch.stack(logits) if logits else None,
    )
    _attach_logs(result, active, prepared)
    return result


def _new_tokens(model: MusicGen, n_frames: int | None, max_new_tokens: int | None) -> int:
    if max_new_tokens is not None:
        return max_new_tokens
    if n_frames is None:
        raise InputError("give n_frames (frames to generate) or max_new_tokens")
    return frames_to_new_tokens(n_frames, model.n_codebooks)


def _hf_kwargs(cond_kwargs: dict[str, Any], decoder_start: torch.Tensor, max_new_tokens: int, sampling: Sampling,
               recorder: StoppingCriteria, batch: int) -> dict[str, Any]:
    """Keyword arguments of MusicGen's own ``generate`` for these settings."""
    hf_sampling = sampling.do_sample and not sampling.keyed  # keyed sampling is greedy over perturbed scores
    gen_kwargs: dict[str, Any] = dict(
        **cond_kwargs, decoder_input_ids=decoder_start, max_new_tokens=max_new_tokens,
        do_sample=hf_sampling, guidance_scale=sampling.guidance_scale if sampling.guided else None,
        stopping_criteria=StoppingCriteriaList([recorder]),
        temperature=sampling.temperature if hf_sampling else None, top_k=sampling.top_k if hf_sampling else None,
        min_new_tokens=max_new_tokens,
    )
    if sampling.keyed:  # greedy over Gumbel-perturbed scores: a sample whose noise each row draws from its key
        gen_kwargs["logits_processor"] = keyed_processors(check_row_keys(sampling.row_keys, batch),
                                                          sampling.temperature, sampling.top_k,
                                                          0 if sampling.seed is None else sampling.seed)
    return gen_kwargs


def _drive(model: MusicGen, **kwargs: Any) -> torch.Tensor:
    with codec_decode_skipped(model.hf):  # the codes are recorded; HF's own audio decode is not needed
        return model.hf.generate(**kwargs)


def _attach_logs(result: GenerationResult, active: list[Any], prepared: list[Any]) -> None:
    """Each active steerer's strength log and monitor trace, under ``method:concept`` (``#i`` when repeated)."""
    for i, (entry, prep) in enumerate(zip(active, prepared, strict=True)):
        name = entry.name + (f"#{i}" if any(e.name == entry.name for e in active[:i]) else "")
        result.logs[name] = prep.log
        if prep.monitor is not None:
            result.monitors[name] = prep.monitor.trace


def _active_steps(interventions: Sequence[Intervention], n_steps: int, every_step: bool) -> list[int]:
    if every_step:
        return list(range(n_steps))
    return [s for s in range(n_steps) if any(iv.steps.contains(s) for iv in interventions)]


def _traced_generate(model: MusicGen, driver: Callable[..., Any], gen_kwargs: dict[str, Any],
                     interventions: Sequence[Intervention], callbacks: Sequence[StepCallback],
                     steps: list[int], batch: int, guided: bool, logits: list[torch.Tensor] | None) -> None:
    """Run ``driver`` in an nnsight trace, editing sites step by step in execution order."""
    order = plan(interventions)
    passes = [s + DISCARDED_PREFILL_PASSES for s in steps]
    with model.nn.trace(fn=driver, **gen_kwargs) as tracer:
        if passes:
            for occurrence in tracer.iter[passes]:
                step = occurrence - DISCARDED_PREFILL_PASSES
                for layer, site, group in order:
                    active = [iv for iv in group if iv.steps.contains(step)]
                    if not active:
                        continue
                    original = model.read_site(site, layer)
                    value = original
                    for iv in active:
                        value = iv.edit(value, iv.context(step, batch, guided))
                    if value is not original:
                        model.write_site(site, layer, value)
                if logits is not None:
                    logits.append(model.read_logits()[:, :, -1].save())
                for callback in callbacks:
                    callback(step, batch)
