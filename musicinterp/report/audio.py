"""The ``Audio`` value: samples, a sample rate and a label, checked once and encoded as 16-bit WAV."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile as sf

from .errors import ReportError
from .html import esc


@dataclass(frozen=True, eq=False)
class Audio:
    """A clip to play in a report or a notebook.

    ``samples`` is mono ``(n,)`` or ``(channels, n)`` float audio in [-1, 1] (louder
    audio is peak-normalised on encoding); ``sample_rate`` in Hz.
    """

    samples: np.ndarray
    sample_rate: int
    label: str = ""
    _wav: list[bytes] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        x = self.samples
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        try:
            x = np.asarray(x, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ReportError(f"Audio samples must be a numeric array: {err}") from err
        if x.ndim == 2 and x.shape[0] > 8:
            raise ReportError(f"Audio samples must be (n,) or (channels, n) with at most 8 channels; "
                              f"got shape {tuple(x.shape)}")
        if x.ndim not in (1, 2) or x.shape[-1] == 0:
            raise ReportError(f"Audio samples must be a non-empty (n,) or (channels, n) array; "
                              f"got shape {tuple(x.shape)}")
        if not np.isfinite(x).all():
            raise ReportError(f"Audio samples of {self.label or 'a clip'!r} contain NaN or inf "
                              f"({int((~np.isfinite(x)).sum())} values)")
        try:
            rate = float(self.sample_rate)
        except (TypeError, ValueError) as err:
            raise ReportError(f"Audio sample_rate must be a positive integer, got {self.sample_rate!r}") from err
        if not rate > 0 or rate != int(rate):
            raise ReportError(f"Audio sample_rate must be a positive integer, got {self.sample_rate!r}")
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "sample_rate", int(rate))
        object.__setattr__(self, "label", str(self.label))

    @classmethod
    def coerce(cls, item: Any, label: str = "") -> Audio:
        """An ``Audio``, or an ``(samples, sample_rate)`` tuple made into one."""
        if isinstance(item, Audio):
            return item
        if isinstance(item, tuple) and len(item) == 2:
            return cls(item[0], item[1], label)
        raise ReportError(f"audio must be an Audio or a (samples, sample_rate) tuple, got {type(item).__name__}")

    @property
    def seconds(self) -> float:
        return self.samples.shape[-1] / self.sample_rate

    def wav_bytes(self) -> bytes:
        """16-bit PCM WAV bytes (deterministic; computed once)."""
        if not self._wav:
            x = self.samples.T if self.samples.ndim == 2 else self.samples
            peak = float(np.abs(x).max())
            if peak > 1.0:
                x = x / peak
            buf = io.BytesIO()
            sf.write(buf, x, self.sample_rate, format="WAV", subtype="PCM_16")
            self._wav.append(buf.getvalue())
        return self._wav[0]

    def player_html(self, src: str) -> str:
        """A labelled ``<audio controls>`` player for ``src`` (a data: URL or a relative path)."""
        caption = f"<figcaption>{esc(self.label)}</figcaption>" if self.label else ""
        return (f'<figure class="mi-audio">{caption}<audio controls preload="metadata" src="{esc(src)}"></audio>'
                f'<span class="mi-dur">{self.seconds:.1f} s</span></figure>')

    def _repr_html_(self) -> str:
        import base64

        return self.player_html("data:audio/wav;base64," + base64.b64encode(self.wav_bytes()).decode("ascii"))

    def __repr__(self) -> str:
        ch = "" if self.samples.ndim == 1 else f", {self.samples.shape[0]} channels"
        return f"Audio({self.label!r}, {self.seconds:.2f} s at {self.sample_rate} Hz{ch})"
