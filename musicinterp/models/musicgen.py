"""The MusicGen adapter: the one module that knows MusicGen's insides.

It maps sites to modules, builds conditioning (text, unconditional, CFG rows),
applies and undoes the delay pattern, and goes between codes and audio. Every
other module talks to a :class:`MusicGen` handle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
from nnsight import NNsight
from transformers import MusicgenForConditionalGeneration

from .delay import apply_delay, delayed_length, undo_delay, valid_positions
from .rows import row_slice
from .sites import SITES, Site, get_site
from .variants import check_supported

# transformers 5.x runs MusicGen's decoder once more than ``max_new_tokens``:
# ``MusicgenForConditionalGeneration.generate`` calls ``_prefill`` and then
# ``_sample`` prefills again, discarding the first result. Generation step 0
# (the first generated frame) is therefore decoder pass 1. Pinned by a test.
DISCARDED_PREFILL_PASSES = 1

Renderer = Callable[[torch.Tensor], np.ndarray]


@dataclass
class Conditioning:
    """Text-encoder inputs for a prompt batch of ``batch`` rows.

    Unconditional rows are token id 0 with an all-zero attention mask: MusicGen
    multiplies the encoder states by the mask, which gives exactly its null
    condition, and keeps the same inputs working for ``generate`` (whose CFG
    doubling needs token ids, not encoder outputs).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor

    @property
    def batch(self) -> int:
        return int(self.input_ids.shape[0])

    def kwargs(self, cfg_rows: bool = False) -> dict[str, torch.Tensor]:
        """Forward kwargs; with ``cfg_rows`` the batch is doubled, conditional rows first."""
        if not cfg_rows:
            return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        return {
            "input_ids": torch.cat([self.input_ids, self.input_ids]),
            "attention_mask": torch.cat([self.attention_mask, torch.zeros_like(self.attention_mask)]),
        }


class MusicGen:
    """A loaded MusicGen (real, random, or the organism) with its nnsight wrapper.

    Attributes give the shapes every method needs; methods read/write sites
    inside an nnsight trace and convert between codes and audio.
    """

    def __init__(
        self,
        hf_model: MusicgenForConditionalGeneration,
        name: str,
        *,
        tokenizer: Any | None = None,
        renderer: Renderer | None = None,
        source: str = "random",
        tokenizer_problem: str | None = None,
    ) -> None:
        self.variant: str = check_supported(hf_model.config, f"model {name!r}")
        self.hf = hf_model.eval()
        self.name = name
        self.source = source
        self.tokenizer = tokenizer
        self.tokenizer_problem = tokenizer_problem  # why a checkpoint came without its tokenizer
        self.renderer = renderer
        self.nn = NNsight(self.hf)
        dec = self.hf.config.decoder
        self.n_layers: int = dec.num_hidden_layers
        self.n_heads: int = dec.num_attention_heads
        self.d_model: int = dec.hidden_size
        self.head_dim: int = self.d_model // self.n_heads
        self.n_codebooks: int = dec.num_codebooks
        self.codebook_size: int = dec.vocab_size
        self.pad_id: int = dec.pad_token_id
        self.audio_channels: int = dec.audio_channels
        self.sample_rate: int = self.hf.config.audio_encoder.sampling_rate
        self.frame_rate: int = int(self.hf.config.audio_encoder.frame_rate)
        self.has_cross_attention: bool = getattr(self._hf_layers()[0], "encoder_attn", None) is not None
        self.steering: list = []  # steerers held active by `Steerer.apply` (generation reads them)
        # sampling settings ``generate`` uses when the caller gives none
        self.generation_defaults: dict[str, Any] = {"guidance_scale": 3.0, "top_k": 250, "temperature": 1.0}

    # ----------------------------------------------------------------- shapes
    @property
    def sites(self) -> list[Site]:
        return [s for s in SITES.values() if s.name != "cross_z" or self.has_cross_attention]

    @property
    def device(self) -> torch.device:
        return next(self.hf.decoder.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.hf.decoder.parameters()).dtype

    def site_shape(self, site: str) -> tuple[int, ...]:
        """Per-position shape of one layer's value at ``site``."""
        return (self.n_heads, self.head_dim) if get_site(site).per_head else (self.d_model,)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary: what ``musicinterp info`` prints."""
        n_params = sum(p.numel() for p in self.hf.decoder.parameters())
        return {
            "name": self.name,
            "source": self.source,
            "variant": self.variant,
            "decoder_parameters": n_params,
            "layers": self.n_layers,
            "heads": self.n_heads,
            "head_dim": self.head_dim,
            "d_model": self.d_model,
            "codebooks": self.n_codebooks,
            "codebook_size": self.codebook_size,
            "frame_rate": self.frame_rate,
            "sample_rate": self.sample_rate,
            "cross_attention": self.has_cross_attention,
            "dtype": str(self.dtype).replace("torch.", ""),
            "device": str(self.device),
            "sites": {s.name: {"shape": list(self.site_shape(s.name)), "description": s.description}
                      for s in self.sites},
            "fingerprint": self.fingerprint,
        }

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the weights: hash of the decoder config and a sample of each tensor."""
        dec = self.hf.config.decoder
        arch = {k: getattr(dec, k) for k in ("num_hidden_layers", "num_attention_heads", "hidden_size",
                                             "ffn_dim", "num_codebooks", "vocab_size", "audio_channels")}
        h = hashlib.sha256(json.dumps(arch, sort_keys=True).encode())
        if self.device.type != "meta":
            with torch.no_grad():
                for name, p in sorted(self.hf.decoder.named_parameters()):
                    flat = p.detach().reshape(-1)
                    sample = flat[:: max(1, flat.numel() // 64)][:64].float().cpu().numpy()
                    h.update(name.encode())
                    h.update(np.round(sample, 6).tobytes())
        return h.hexdigest()[:16]

    # ------------------------------------------------------------- module map
    def _hf_layers(self) -> Sequence[torch.nn.Module]:
        return self.hf.decoder.model.decoder.layers

    def _envoy_layers(self) -> Any:
        return self.nn.decoder.model.decoder.layers

    def _site_location(self, site: str, layer: int) -> tuple[Any, str]:
        """(envoy, 'input'|'output') for a site at a layer. Only used inside traces."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        lyr = self._envoy_layers()[layer]
        if site == "attn_z":
            return lyr.self_attn.out_proj, "input"
        if site == "cross_z":
            if not self.has_cross_attention:
                raise ValueError("this model has no cross-attention (melody variant): no cross_z site")
            return lyr.encoder_attn.out_proj, "input"
        if site == "mlp_out":
            return lyr.fc2, "output"
        if site == "resid":
            return lyr, "output"
        get_site(site)  # raises with the list of known sites
        raise AssertionError(site)

    def read_site(self, site: str, layer: int) -> torch.Tensor:
        """Inside a trace: the live value, ``(rows, T, H, hd)`` for head sites else ``(rows, T, d)``."""
        envoy, attr = self._site_location(site, layer)
        value = envoy.input if attr == "input" else envoy.output
        if get_site(site).per_head:
            value = value.view(*value.shape[:-1], self.n_heads, self.head_dim)
        return value

    def write_site(self, site: str, layer: int, value: torch.Tensor) -> None:
        """Inside a trace: replace the live value (same layout as :meth:`read_site`)."""
        envoy, attr = self._site_location(site, layer)
        if get_site(site).per_head:
            value = value.reshape(*value.shape[:-2], self.d_model)
        if attr == "input":
            envoy.input = value
        else:
            envoy.output = value

    def read_layer_input(self, layer: int) -> torch.Tensor:
        """Inside a trace: a decoder layer's input hidden states ``(rows, T, d)`` (read before its sites)."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        return self._envoy_layers()[layer].input

    def skip_layer(self, layer: int, output: torch.Tensor) -> None:
        """Inside a trace: do not run decoder layer ``layer``; ``output`` ``(rows, T, d)`` stands for its output."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        self._envoy_layers()[layer].skip(output)

    def read_logits(self) -> torch.Tensor:
        """Inside a trace: the decoder's logits for this pass as ``(rows, K, T, V)``."""
        logits = self.nn.decoder.output.logits
        return logits.reshape(-1, self.n_codebooks, *logits.shape[1:])

    # ----------------------------------------------------------- conditioning
    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and attention mask for ``texts`` with the model's own tokenizer."""
        if self.tokenizer is None:
            why = f": {self.tokenizer_problem}" if self.tokenizer_problem else ""
            raise ValueError(
                f"model {self.name!r} has no tokenizer{why}; pass token ids (input_ids=...) instead of text"
            )
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        if ids.shape[1] == 0:  # every prompt empty: one masked pad column is the null condition
            ids = torch.zeros(len(texts), 1, dtype=torch.long)
            mask = torch.zeros(len(texts), 1, dtype=torch.long)
        return ids, mask

    def conditioning(
        self,
        *,
        text: Sequence[str] | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        batch: int | None = None,
    ) -> Conditioning:
        """Conditioning from text, token ids, or (neither) unconditional for ``batch`` rows."""
        if text is not None:
            if isinstance(text, str):
                text = [text]
            input_ids, attention_mask = self.tokenize(text)
        if input_ids is not None:
            input_ids = torch.as_tensor(input_ids, dtype=torch.long)
            if input_ids.dim() != 2:
                raise ValueError(f"input_ids must be (B, L), got shape {tuple(input_ids.shape)}")
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
        else:
            if batch is None:
                raise ValueError("unconditional conditioning needs a batch size")
            input_ids = torch.zeros(batch, 1, dtype=torch.long)
            attention_mask = torch.zeros(batch, 1, dtype=torch.long)
        return Conditioning(input_ids.to(self.device), attention_mask.to(self.device))

    # ------------------------------------------------------------------ codes
    def check_codes(self, codes: torch.Tensor, what: str = "codes") -> torch.Tensor:
        if codes.dim() != 3 or codes.shape[1] != self.n_codebooks:
            raise ValueError(f"{what} must be (B, {self.n_codebooks}, T), got shape {tuple(codes.shape)}")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise ValueError(f"{what} hold ids outside [0, {self.codebook_size})")
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
            raise ValueError(f"conditioning has {cond.batch} rows but codes have {codes.shape[0]}")
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
            raise ValueError(f"a guided decoder batch for {batch} prompts has {2 * batch} rows, got "
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
            raise ValueError(f"model {self.name!r} works on native codes; it has no audio encoder")
        wav = torch.as_tensor(np.asarray(audio), dtype=torch.float32)
        if wav.dim() == 1:
            wav = wav[None]
        wav = wav[:, None].to(self.device, self.dtype)
        enc = self.hf.audio_encoder.encode(wav, bandwidth=self.hf.config.audio_encoder.target_bandwidths[-1])
        return enc.audio_codes[0].long().cpu()
