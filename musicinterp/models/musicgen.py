"""The MusicGen adapter: the one module that knows MusicGen's insides.

It maps sites to modules, builds conditioning (text, unconditional, CFG rows),
applies and undoes the delay pattern, and goes between codes and audio. Every
other module talks to a :class:`MusicGen` handle. The class is assembled here from
its shapes and site map; its conditioning methods live in :mod:`.conditioning`, its
codes, logits and audio methods in :mod:`.sequences` (both re-exported here).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import torch
from nnsight import NNsight
from transformers import MusicgenForConditionalGeneration

from ..errors import InputError
from .conditioning import Conditioning, ConditioningMixin
from .sequences import CodesMixin, Renderer
from .sites import SITES, Site, get_site
from .variants import check_supported

__all__ = ["DISCARDED_PREFILL_PASSES", "Conditioning", "MusicGen", "Renderer"]

# transformers 5.x runs MusicGen's decoder once more than ``max_new_tokens``:
# ``MusicgenForConditionalGeneration.generate`` calls ``_prefill`` and then
# ``_sample`` prefills again, discarding the first result. Generation step 0
# (the first generated frame) is therefore decoder pass 1. Pinned by a test.
DISCARDED_PREFILL_PASSES = 1


class MusicGen(ConditioningMixin, CodesMixin):
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
            raise InputError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        lyr = self._envoy_layers()[layer]
        if site == "attn_z":
            return lyr.self_attn.out_proj, "input"
        if site == "cross_z":
            if not self.has_cross_attention:
                raise InputError("this model has no cross-attention (melody variant): no cross_z site")
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
            raise InputError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        return self._envoy_layers()[layer].input

    def skip_layer(self, layer: int, output: torch.Tensor) -> None:
        """Inside a trace: do not run decoder layer ``layer``; ``output`` ``(rows, T, d)`` stands for its output."""
        if not 0 <= layer < self.n_layers:
            raise InputError(f"layer {layer} out of range for a {self.n_layers}-layer model")
        self._envoy_layers()[layer].skip(output)

    def read_logits(self) -> torch.Tensor:
        """Inside a trace: the decoder's logits for this pass as ``(rows, K, T, V)``."""
        logits = self.nn.decoder.output.logits
        return logits.reshape(-1, self.n_codebooks, *logits.shape[1:])
