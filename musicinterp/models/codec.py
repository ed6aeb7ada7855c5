"""MusicGen's ``generate`` decodes its codes to audio before returning; generation here reads the codes.

Transformers' ``MusicgenForConditionalGeneration.generate`` always runs the EnCodec
decoder on the finished codes and returns only audio. musicinterp records the code
sequence itself (a stopping criterion sees every step), so that decode is wasted work:
on the organism it is about a third of a generation's time, and with ``decode_audio``
the audio would be decoded twice. :func:`codec_decode_skipped` stands a no-op decoder in
for the length of one ``generate`` call and restores the real one afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import torch


@contextmanager
def codec_decode_skipped(hf_model: Any) -> Iterator[None]:
    """Inside the block ``hf_model.audio_encoder.decode`` returns empty audio instead of decoding."""
    encoder = getattr(hf_model, "audio_encoder", None)
    if encoder is None or "decode" in vars(encoder):  # nothing to skip, or already skipped (nested)
        yield
        return

    def no_decode(codes: torch.Tensor, *args: Any, **kwargs: Any) -> SimpleNamespace:
        return SimpleNamespace(audio_values=torch.zeros(codes.shape[1], 1, 0, device=codes.device))

    encoder.decode = no_decode
    try:
        yield
    finally:
        del encoder.decode
