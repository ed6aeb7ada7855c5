"""Teacher-forced inputs for ablation and patching: codes, text conditioning and the CFG branch.

A :class:`TeacherForced` batch is what one sweep cell runs on. Its ``branch``
says which classifier-free-guidance rows exist and what the metrics see:

* ``"cond"``: the text-conditioned rows only (``B`` decoder rows);
* ``"uncond"``: the null condition only (``B`` rows);
* ``"guided"``: both (``2B`` rows, conditional first) and metrics read the guided
  logits ``u + w (c - u)`` with ``w = guidance_scale``, as generation samples them.

Cells are run as copies of the batch stacked along the decoder batch: cell ``c``
owns rows ``[c * R, (c + 1) * R)`` with ``R = rows_per_cell``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import MusicInterpError
from ..models.musicgen import Conditioning, MusicGen

BRANCHES = ("cond", "uncond", "guided")


class AblationInputError(ValueError, MusicInterpError):
    """Inputs to an ablation or patching run are inconsistent; the message names the argument."""


@dataclass
class TeacherForced:
    """Codes ``(B, K, T)`` traced teacher-forced under ``cond`` on the CFG ``branch``."""

    codes: torch.Tensor
    cond: Conditioning
    branch: str = "cond"
    guidance_scale: float = 3.0
    label: str = ""

    def __post_init__(self) -> None:
        if self.branch not in BRANCHES:
            raise AblationInputError(f"branch must be one of {BRANCHES}, got {self.branch!r}")
        if self.cond.batch != self.codes.shape[0]:
            raise AblationInputError(f"conditioning has {self.cond.batch} rows but codes have {self.codes.shape[0]}")

    @property
    def batch(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.codes.shape[-1])

    @property
    def guided(self) -> bool:
        return self.branch == "guided"

    @property
    def rows_per_cell(self) -> int:
        return 2 * self.batch if self.guided else self.batch

    def row_slice(self, rows: str) -> slice:
        """Rows of one cell block an edit addresses (``"cond"``, ``"uncond"`` or ``"both"``)."""
        b = self.batch
        if rows == "both" or not self.guided:
            if rows == "uncond" and not self.guided:
                raise AblationInputError("rows='uncond' needs branch='guided' (the batch has no unconditional rows)")
            return slice(0, self.rows_per_cell)
        if rows == "cond":
            return slice(0, b)
        if rows == "uncond":
            return slice(b, 2 * b)
        raise AblationInputError(f"rows must be 'cond', 'uncond' or 'both', got {rows!r}")

    def with_codes(self, codes: torch.Tensor) -> TeacherForced:
        return TeacherForced(codes, self.cond, self.branch, self.guidance_scale, self.label)

    def __repr__(self) -> str:
        b, k, t = self.codes.shape
        return f"TeacherForced({self.label or 'clips'}: {b} x {k} x {t} frames, branch={self.branch})"


def teacher_forced(model: MusicGen, codes: torch.Tensor | None = None, *, audio: Any = None,
                   text: Sequence[str] | str | None = None, input_ids: torch.Tensor | None = None,
                   attention_mask: torch.Tensor | None = None, branch: str | None = None,
                   guidance_scale: float | None = None, label: str = "") -> TeacherForced:
    """Build teacher-forced inputs from codes (or audio encoded with the model's codec) and optional text.

    ``branch`` defaults to ``"cond"`` with text and ``"uncond"`` without; ``"guided"``
    keeps both rows and scores the guided logits (``guidance_scale`` defaults to the
    model's generation default).
    """
    if (codes is None) == (audio is None):
        raise AblationInputError("give exactly one of codes= or audio=")
    if audio is not None:
        codes = _encode_audio(model, audio)
    codes = torch.as_tensor(codes)
    if codes.dim() == 2:
        codes = codes[None]
    try:
        codes = model.check_codes(codes)
    except ValueError as err:
        raise AblationInputError(f"codes: {err}") from None
    b = codes.shape[0]
    if isinstance(text, str):
        text = [text] * b
    if text is not None and len(text) == 1 and b > 1:
        text = list(text) * b
    if text is not None and len(text) != b:
        raise AblationInputError(f"text has {len(text)} prompts for {b} clips")
    has_text = text is not None or input_ids is not None
    cond = model.conditioning(text=text, input_ids=input_ids, attention_mask=attention_mask,
                              batch=None if has_text else b)
    branch = branch or ("cond" if has_text else "uncond")
    if branch == "uncond":
        cond = model.conditioning(batch=b)
    if guidance_scale is None:
        guidance_scale = float(model.generation_defaults.get("guidance_scale") or 3.0)
    return TeacherForced(codes, cond, branch, float(guidance_scale), label)


def _encode_audio(model: MusicGen, audio: Any) -> torch.Tensor:
    from ..data.audio import load_audio

    if isinstance(audio, (str, Path)):
        audio = load_audio(audio, model.sample_rate).samples
    elif isinstance(audio, Sequence) and audio and isinstance(audio[0], (str, Path)):
        clips = [load_audio(p, model.sample_rate).samples for p in audio]
        n = min(len(c) for c in clips)
        audio = np.stack([c[:n] for c in clips])
    return model.audio_to_codes(audio)


def as_inputs(model: MusicGen, data: Any, what: str = "data") -> TeacherForced:
    """Accept a :class:`TeacherForced`, a code tensor ``(B, K, T)`` or ``(K, T)``, or audio (array or paths)."""
    if isinstance(data, TeacherForced):
        try:
            model.check_codes(data.codes)
        except ValueError as err:
            raise AblationInputError(f"{what}: {err}") from None
        return data
    if isinstance(data, torch.Tensor) and not data.is_floating_point():
        try:
            return teacher_forced(model, data)
        except AblationInputError as err:
            raise AblationInputError(f"{what}: {err}") from None
    if isinstance(data, (np.ndarray, str, Path, list, tuple)) or (isinstance(data, torch.Tensor)):
        return teacher_forced(model, audio=data.numpy() if isinstance(data, torch.Tensor) else data)
    raise AblationInputError(f"{what} must be TeacherForced inputs, codes (B, K, T) or audio; got {type(data).__name__}")


def cell_kwargs(model: MusicGen, inputs: TeacherForced, n_cells: int,
                encoder_hidden: torch.Tensor | None = None) -> dict[str, Any]:
    """Forward kwargs with the batch repeated ``n_cells`` times (cell-major rows).

    ``encoder_hidden`` (the text encoder's output for one cell) is repeated instead
    of running the text encoder again for every cell.
    """
    base = model.forward_inputs(inputs.codes, inputs.cond, cfg_rows=inputs.guided)
    out: dict[str, Any] = {"decoder_input_ids": base["decoder_input_ids"].repeat(n_cells, 1),
                           "attention_mask": base["attention_mask"].repeat(n_cells, 1), "use_cache": False}
    if encoder_hidden is None:
        out["input_ids"] = base["input_ids"].repeat(n_cells, 1)
    else:
        out["encoder_outputs"] = (encoder_hidden.repeat(n_cells, 1, 1),)
    return out


@torch.no_grad()
def encode_text(model: MusicGen, inputs: TeacherForced) -> torch.Tensor:
    """The text encoder's last hidden state for one cell's rows ``(R, L, d_text)``."""
    base = model.forward_inputs(inputs.codes, inputs.cond, cfg_rows=inputs.guided)
    return model.hf.text_encoder(input_ids=base["input_ids"], attention_mask=base["attention_mask"]
                                 ).last_hidden_state


def frame_logprobs(model: MusicGen, inputs: TeacherForced, logits: torch.Tensor) -> torch.Tensor:
    """Decoder logits ``(C * R, K, T + K, V)`` -> per-frame log-probs ``(C, B, K, T, V)`` on the scored branch."""
    r, b = inputs.rows_per_cell, inputs.batch
    logits = logits.float().reshape(-1, r, *logits.shape[1:])
    if inputs.guided:
        c, u = logits[:, :b], logits[:, b:]
        logits = u + inputs.guidance_scale * (c - u)
    c_cells = logits.shape[0]
    frames = model.logits_to_frames(logits.reshape(-1, *logits.shape[2:]), inputs.n_frames)
    return torch.log_softmax(frames, dim=-1).reshape(c_cells, b, *frames.shape[1:])
