"""Embedded audio players: clips as base64 WAV ``<audio controls>`` elements (results show them in Jupyter)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np
import soundfile as sf


def wav_base64(samples: np.ndarray, sample_rate: int) -> str:
    """Mono samples as a base64 16-bit WAV (deterministic bytes)."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(samples, dtype=np.float32), -1, 1), int(sample_rate), format="WAV",
             subtype="PCM_16")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def audio_players_html(audio: np.ndarray, sample_rate: int, labels: Sequence[str] | None = None,
                       limit: int = 8) -> str:
    """One player per row of ``audio`` ``(B, samples)`` (at most ``limit``), with labels."""
    audio = np.atleast_2d(audio)
    labels = list(labels) if labels is not None else [f"#{i}" for i in range(len(audio))]
    cells = []
    for label, row in list(zip(labels, audio, strict=False))[:limit]:
        src = f"data:audio/wav;base64,{wav_base64(row, sample_rate)}"
        cells.append(f"<div style='display:inline-block;margin:4px'><div>{html.escape(str(label))}</div>"
                     f"<audio controls src='{src}'></audio></div>")
    more = f"<div>... {len(audio) - limit} more</div>" if len(audio) > limit else ""
    return "<div>" + "".join(cells) + more + "</div>"


def compare_players_html(pairs: dict[str, np.ndarray], sample_rate: int, index: int = 0) -> str:
    """Side-by-side players, one per named version of the same generation (e.g. unsteered vs steered)."""
    return audio_players_html(np.stack([np.atleast_2d(a)[index] for a in pairs.values()]), sample_rate,
                              labels=list(pairs))
