"""Generation through nnsight with per-step interventions addressed by step and CFG rows.

``generate`` runs MusicGen's own ``generate`` inside one nnsight trace. Step 0
is the first generated frame (the discarded prefill pass is skipped), codes
come back as ``(B, K, T)`` with the delay pattern undone, and audio is decoded
by the model's codec (EnCodec, or the organism's renderer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers.generation.stopping_criteria import StoppingCriteria, StoppingCriteriaList

from ..data.audio import load_audio
from ..models.codec import codec_decode_skipped
from ..models.delay import frames_to_new_tokens
from ..models.musicgen import DISCARDED_PREFILL_PASSES, MusicGen
from .interventions import Intervention, plan
from .sampling import check_row_keys, keyed_processors

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
        from ..views.audio import audio_players_html

        head = repr(self).replace("&", "&amp;").replace("<", "&lt;")
        if self.audio is None:
            return f"<pre>{head}</pre>"
        return f"<pre>{head}</pre>" + audio_players_html(self.audio, self.sample_rate)

    def play(self, index: int = 0):
        """An IPython audio player for one generation."""
        from IPython.display import Audio

        if self.audio is None:
            raise ValueError("this generation has no audio (generated with decode_audio=False)")
        return Audio(self.audio[index], rate=self.sample_rate)


def _prompt_codes(model: MusicGen, prompt_codes: torch.Tensor | None,
                  prompt_audio: str | Path | np.ndarray | None, batch: int) -> torch.Tensor | None:
    if prompt_audio is not None:
        if prompt_codes is not None:
            raise ValueError("give prompt_codes or prompt_audio, not both")
        if isinstance(prompt_audio, (str, Path)):
            prompt_audio = load_audio(prompt_audio, model.sample_rate).samples
        prompt_codes = model.audio_to_codes(prompt_audio)
    if prompt_codes is None:
        return None
    prompt_codes = model.check_codes(torch.as_tensor(prompt_codes), "prompt_codes")
    if prompt_codes.shape[0] == 1 and batch > 1:
        prompt_codes = prompt_codes.expand(batch, -1, -1)
    if prompt_codes.shape[0] != batch:
        raise ValueError(f"prompt_codes have {prompt_codes.shape[0]} rows for a batch of {batch}")
    return prompt_codes


@torch.no_grad()
def generate(
    model: MusicGen,
    *,
    text: Sequence[str] | str | None = None,
    input_ids: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    batch: int | None = None,
    prompt_codes: torch.Tensor | None = None,
    prompt_audio: str | Path | np.ndarray | None = None,
    n_frames: int | None = None,
    max_new_tokens: int | None = None,
    guidance_scale: float | None = None,
    do_sample: bool = True,
    temperature: float | None = None,
    top_k: int | None = None,
    seed: int | None = None,
    row_keys: Sequence[int] | torch.Tensor | None = None,
    interventions: Sequence[Intervention] = (),
    callbacks: Sequence[StepCallback] = (),
    record_logits: bool = False,
    decode_audio: bool = True,
    traced: bool | None = None,
) -> GenerationResult:
    """Generate ``n_frames`` new frames (or ``max_new_tokens`` decoder steps).

    Conditioning is ``text`` (needs a tokenizer), ``input_ids`` or nothing
    (unconditional, ``batch`` rows). A continuation starts from
    ``prompt_codes`` ``(B, K, Tp)`` or ``prompt_audio`` (file path or mono
    samples at the model's rate). ``interventions`` edit sites at their steps
    and rows; ``callbacks(step, batch)`` run at the end of each step inside the trace
    (monitors use them). ``traced=False`` runs plain Hugging Face generation.
    ``row_keys`` (one int per row) samples each row with noise keyed by its key
    and ``seed``: rows sharing a key share their randomness across calls and batch
    layouts (see :mod:`musicinterp.engine.sampling`).
    """
    active = list(model.steering)  # steerers held active by `with steerer.apply(model)`
    prepared = [entry.prepare(model) for entry in active]
    interventions = list(interventions) + [iv for p in prepared for iv in p.interventions]
    callbacks = list(callbacks) + [cb for p in prepared for cb in p.callbacks]
    defaults = model.generation_defaults
    guidance_scale = defaults["guidance_scale"] if guidance_scale is None else guidance_scale
    temperature = defaults["temperature"] if temperature is None else temperature
    top_k = defaults["top_k"] if top_k is None else top_k
    if isinstance(text, str):
        text = [text]
    if text is None and input_ids is None and batch is None:
        batch = 1 if prompt_codes is None else int(torch.as_tensor(prompt_codes).shape[0])
    cond = model.conditioning(text=text, input_ids=input_ids, attention_mask=attention_mask, batch=batch)
    b = cond.batch
    prompt = _prompt_codes(model, prompt_codes, prompt_audio, b)
    prompt_frames = 0 if prompt is None else prompt.shape[-1]
    if max_new_tokens is None:
        if n_frames is None:
            raise ValueError("give n_frames (frames to generate) or max_new_tokens")
        max_new_tokens = frames_to_new_tokens(n_frames, model.n_codebooks)
    guided = guidance_scale is not None and guidance_scale > 1
    decoder_start = model.generation_start(b, prompt)

    recorder = _SequenceRecorder()
    keyed = row_keys is not None and do_sample
    hf_sampling = do_sample and not keyed  # keyed sampling is greedy decoding over perturbed scores
    gen_kwargs: dict[str, Any] = dict(
        **cond.kwargs(), decoder_input_ids=decoder_start.to(model.device), max_new_tokens=max_new_tokens,
        do_sample=hf_sampling, guidance_scale=guidance_scale if guided else None,
        stopping_criteria=StoppingCriteriaList([recorder]),
        temperature=temperature if hf_sampling else None, top_k=top_k if hf_sampling else None,
        min_new_tokens=max_new_tokens,
    )
    if keyed:  # greedy over Gumbel-perturbed scores: a sample whose noise each row draws from its key
        gen_kwargs["logits_processor"] = keyed_processors(check_row_keys(row_keys, b), temperature, top_k,
                                                          0 if seed is None else seed)

    def driver(**kwargs: Any) -> torch.Tensor:
        with codec_decode_skipped(model.hf):  # the codes are recorded; HF's own audio decode is not needed
            return model.hf.generate(**kwargs)

    if seed is not None:
        torch.manual_seed(seed)
    steps = _active_steps(interventions, max_new_tokens, every_step=record_logits)
    use_trace = traced if traced is not None else bool(steps)
    logits: list[torch.Tensor] = []
    if use_trace:
        _traced_generate(model, driver, gen_kwargs, interventions, callbacks, steps, b, guided,
                         logits if record_logits else None)
    else:
        driver(**gen_kwargs)

    codes = model.finish_generated(recorder.sequence, decoder_start, b)
    audio = model.codes_to_audio(codes) if decode_audio else None
    result = GenerationResult(
        codes=codes.cpu(), prompt_frames=prompt_frames, audio=audio, sample_rate=model.sample_rate,
        steps=max_new_tokens, logits=torch.stack(logits) if logits else None,
    )
    for i, (entry, prep) in enumerate(zip(active, prepared, strict=True)):
        name = entry.name + (f"#{i}" if any(e.name == entry.name for e in active[:i]) else "")
        result.logs[name] = prep.log
        if prep.monitor is not None:
            result.monitors[name] = prep.monitor.trace
    return result


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
