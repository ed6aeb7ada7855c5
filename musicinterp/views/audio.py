"""Audio players for Jupyter: generations as embedded WAV ``<audio controls>`` elements."""

from __future__ import annotations

import numpy as np

from ..data.players import audio_players_html, compare_players_html, wav_base64
from ..errors import InputError

__all__ = ["Players", "players", "audio_players_html", "compare_players_html", "wav_base64"]


class Players:
    """Labelled audio players side by side; displays itself in Jupyter, prints a summary elsewhere."""

    def __init__(self, audio: dict[str, np.ndarray], sample_rate: int, index: int = 0) -> None:
        self.audio = {name: np.atleast_2d(a)[index] for name, a in audio.items()}
        self.sample_rate = sample_rate

    def _repr_html_(self) -> str:  # clip by clip: the versions may differ in length
        return "<div>" + "".join(audio_players_html(a[None], self.sample_rate, labels=[name])
                                 for name, a in self.audio.items()) + "</div>"

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} ({len(v) / self.sample_rate:.1f} s)" for k, v in self.audio.items())
        return f"Players({parts})"


def players(index: int = 0, **results) -> Players:
    """Players for one prompt of several generations: ``players(unsteered=a, steered=b)``.

    Each value is a generation result (anything with ``.audio`` and ``.sample_rate``) or
    a ``(samples, sample_rate)`` pair.
    """
    if not results:
        raise InputError("players() needs at least one named result, e.g. players(steered=result)")
    audio, rate = {}, None
    for name, res in results.items():
        samples, sr = (res if isinstance(res, tuple) else (getattr(res, "audio", None), getattr(res, "sample_rate", None)))
        if samples is None:
            raise InputError(f"players(): {name!r} has no audio (was it generated with decode_audio=False?)")
        if rate is not None and sr != rate:
            raise InputError(f"players(): {name!r} is at {sr} Hz, the others at {rate} Hz")
        audio[name], rate = samples, sr
    return Players(audio, int(rate), index)
