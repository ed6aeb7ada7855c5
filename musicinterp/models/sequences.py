"""Codes on the decoder's side: the delay pattern, teacher-forcing inputs, CFG rows, logits per frame, and audio.

:class:`CodesMixin` gives :class:`~musicinterp.models.musicgen.MusicGen` its methods
between ``(B, K, T)`` codes and what the Hugging Face model reads and returns:
delayed decoder inputs, the rows of a guided batch, per-frame logits, the start and
finish of ``generate``, and the EnCodec (or renderer) round trip to audio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from .conditioning import Conditioning
from .delay import apply_delay, delayed_length, undo_delay, valid_positions
from .rows import row_slice

Renderer = Callable[[torch.Tensor], np.ndarray]


class CodesMixin:
    """Codes <-> decoder sequences and audio, for a model with the attributes below."""

    hf: Any
    name: str
    n_codebooks: int
    codebook_size: int
    pad_id: int
    renderer: Renderer | None
    device: torch.device
    dtype: torch.dtype
    conditioning: Callable[..., Conditioning]

    def check_codes(self, codes: torch.Tensor, what: str = "codes") -> torch.Tensor:
        if codes.dim() != 3 or codes.shape[1] != self.n_codebooks:
            raise InputError(f"{what} must be (B, {self.n_codebooks}, T), got shape {tuple(codes.shape)}")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise InputError(f"{what} hold ids outside [0, {self.codebook_size})")
        return codes.long()

    def decoder_inputs(self, codes: torch.Tensor) -> torch.Tensor:
        """``(B, K, T)`` codes -> the delayed ``(B*K, T+K)`` teacher-forcing input."""
        delayed = apply_delay(self.check_codes(codes), self.pad_id)
        return delayed.reshape(-1, delayed.shape[-1]).to(self.device)

    def forward_inputs(self, codes: torch.Tensor, cond: Conditioning | None = None,
                       cfg_rows: bool = False) -> dict[str, Any]:
        """Teacher-forcing kwargs for the HF forward; ``cfg_rows`` doubles the batch (cond, uncond).

        ``use_cache=False``: a teacher-forced pass has no next step, and the key/value
        cache it would return holds two ``d_model`` widths per layer and position
        (most of the forward's memory: 89 widths per clip with it, 19 without).
        """
        cond = cond or self.conditioning(batch=codes.shape[0])
        if cond.batch != codes.shape[0]:
            raise InputError(f"conditioning has {cond.batch} rows but codes have {codes.shape[0]}")
        dec_in = self.decoder_inputs(codes)
        if cfg_rows:
            dec_in = torch.cat([dec_in, dec_in])  # rows (B*K) cond, then (B*K) uncond, as HF does
        return {"decoder_input_ids": dec_in, **cond.kwargs(cfg_rows), "use_cache": False}

    def sequence_length(self, n_frames: int) -> int:
        """Decoder positions a teacher-forced clip of ``n_frames`` frames occupies (delay pattern included)."""
        return delayed_length(n_frames, self.n_codebooks)

    def valid_positions(self, n_frames: int) -> range:
        """Decoder positions of a clip where every codebook holds a real code (no delay pad)."""
        return valid_positions(n_frames, self.n_codebooks)

    def cfg_rows(self, value: torch.Tensor, batch: int, branch: str) -> torch.Tensor:
        """The ``branch`` rows (``"cond"``, ``"uncond"``, ``"both"``) of a value read under guidance.

        With classifier-free guidance the decoder batch holds ``2 * batch`` rows:
        conditional rows first, then unconditional ones.
        """
        if value.shape[0] != 2 * batch:
            raise InputError(f"a guided decoder batch for {batch} prompts has {2 * batch} rows, got "
                             f"{value.shape[0]}")
        return value[row_slice(branch, batch, cfg=True)]

    def logits_to_frames(self, logits: torch.Tensor, n_frames: int) -> torch.Tensor:
        """Per-position logits ``(B, K, T+K, V)`` -> per-frame ``(B, K, T, V)``.

        Position ``p`` of codebook ``k`` predicts frame ``p - k``; this undoes that shift.
        """
        return torch.stack([logits[:, k, k : k + n_frames] for k in range(self.n_codebooks)], dim=1)

    @torch.no_grad()
    def forward_logits(self, codes: torch.Tensor, cond: Conditioning | None = None,
                       cfg_rows: bool = False) -> torch.Tensor:
        """Plain (untraced) teacher-forced forward: logits ``(rows, K, T+K, V)``."""
        out = self.hf(**self.forward_inputs(codes, cond, cfg_rows))
        return out.logits.reshape(-1, self.n_codebooks, *out.logits.shape[1:])

    def generation_start(self, batch: int, prompt: torch.Tensor | None) -> torch.Tensor:
        """``decoder_input_ids`` for ``generate``: BOS, then the (undelayed) prompt codes, ``(B*K, 1+Tp)``."""
        start = torch.full((batch * self.n_codebooks, 1), self.pad_id, dtype=torch.long)
        if prompt is not None:
            start = torch.cat([start, prompt.reshape(batch * self.n_codebooks, -1).cpu()], dim=1)
        return start

    def finish_generated(self, sequence: torch.Tensor, start: torch.Tensor, batch: int) -> torch.Tensor:
        """MusicGen's raw decoder sequence ``(B*K, S)`` -> ``(B, K, T)`` codes, delay undone.

        Positions the pattern forces (pads, prompt codes) are restored from
        MusicGen's own delay mask, built from the same ``start``, as its
        ``generate`` does before decoding.
        """
        seq = sequence.detach().to(torch.long).cpu()
        _, mask = self.hf.decoder.build_delay_pattern_mask(start, self.pad_id, max_length=seq.shape[1])
        seq = self.hf.decoder.apply_delay_pattern_mask(seq, mask.cpu())
        return undo_delay(seq.reshape(batch, self.n_codebooks, -1))

    # ------------------------------------------------------------------ audio
    @torch.no_grad()
    def codes_to_audio(self, codes: torch.Tensor) -> np.ndarray:
        """``(B, K, T)`` codes -> ``(B, samples)`` float32 audio at :attr:`sample_rate`."""
        codes = self.check_codes(codes)
        if self.renderer is not None:
            return self.renderer(codes)
        audio = self.hf.audio_encoder.decode(codes[None].to(self.device), audio_scales=[None]).audio_values
        return audio[:, 0].float().cpu().numpy()

    @torch.no_grad()
    def audio_to_codes(self, audio: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Mono ``(samples,)`` or ``(B, samples)`` audio at :attr:`sample_rate` -> ``(B, K, T)`` codes."""
        if self.renderer is not None:
            raise InputError(f"model {self.name!r} works on native codes; it has no audio encoder")
        wav = torch.as_tensor(np.asarray(audio), dtype=torch.float32)
        if wav.dim() == 1:
            wav = wav[None]
        wav = wav[:, None].to(self.device, self.dtype)
        enc = self.hf.audio_encoder.encode(wav, bandwidth=self.hf.config.audio_encoder.target_bandwidths[-1])
        return enc.audio_codes[0].long().cpu()
