"""Which member of the MusicGen family a checkpoint is, and whether the workbench supports it.

Mono text-to-music checkpoints (``facebook/musicgen-small/medium/large``) are
supported. Stereo checkpoints interleave two channels' codebooks with a delay of
``k // 2`` and melody checkpoints prepend their conditioning to the decoder
sequence; frame selection, collection, ablation and codes <-> audio all assume
the mono layout, so both are refused up front with what is missing, rather
than giving silently wrong frames.
"""

from __future__ import annotations

from typing import Any

from ..errors import MusicInterpError

SUPPORTED = ("mono",)

MISSING: dict[str, str] = {
    "stereo": (
        "its 2 x 4 interleaved codebooks use a per-channel delay (codebook k shifted by k // 2), but the delay "
        "pattern, valid-frame selection, collection, ablation and codes <-> audio in musicinterp handle one "
        "channel of 4 codebooks only"
    ),
    "melody": (
        "it has no cross-attention (no cross_z site) and prepends its text/chroma conditioning to the decoder "
        "sequence, but frame selection in collection, probes and ablation does not yet exclude those prepended "
        "positions, and its chroma conditioning is not built (it would come from librosa as input_features)"
    ),
}


class UnsupportedVariantError(ValueError, MusicInterpError):
    """A checkpoint or model is a MusicGen variant (or another architecture) the workbench refuses."""


def _get(config: Any, key: str, default: Any = None) -> Any:
    return config.get(key, default) if isinstance(config, dict) else getattr(config, key, default)


def variant_of(config: Any) -> str:
    """``"mono"``, ``"stereo"``, ``"melody"`` or ``"other:<model_type>"`` for a config (object or ``config.json`` dict)."""
    model_type = _get(config, "model_type")
    if model_type == "musicgen_melody":
        return "melody"
    if model_type != "musicgen":
        return f"other:{model_type}"
    decoder = _get(config, "decoder") or {}
    return "stereo" if int(_get(decoder, "audio_channels", 1) or 1) == 2 else "mono"


def check_supported(config: Any, where: str) -> str:
    """The variant of ``config`` if supported; else an :class:`UnsupportedVariantError` naming it and what is missing.

    ``where`` names the checkpoint (folder or id) in the message.
    """
    variant = variant_of(config)
    if variant in SUPPORTED:
        return variant
    if variant.startswith("other:"):
        archs = _get(config, "architectures") or []
        raise UnsupportedVariantError(
            f"{where}: config.json describes model_type {variant[6:]!r} (architectures {archs}); musicinterp "
            f"loads MusicGen text-to-music checkpoints (model_type 'musicgen', MusicgenForConditionalGeneration) "
            f"such as facebook/musicgen-small"
        )
    raise UnsupportedVariantError(
        f"{where} is a MusicGen {variant} checkpoint, which musicinterp does not support yet: {MISSING[variant]}. "
        f"Use a mono checkpoint (facebook/musicgen-small, -medium or -large) instead."
    )
