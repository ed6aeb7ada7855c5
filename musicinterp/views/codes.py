"""Seeing the music: code sequences as piano rolls (one row per codebook), steered beside unsteered on one
time axis, and spectrograms for real models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots


def codes_figure(codes: torch.Tensor, *, frame_rate: int = 50, roles: Sequence[str] | None = None,
                 title: str = "", silence: int | None = 0) -> go.Figure:
    """One row per codebook: each frame's token id over time (silence tokens hidden)."""
    codes = torch.as_tensor(codes)
    if codes.dim() == 3:
        codes = codes[0]
    k, t = codes.shape
    roles = list(roles) if roles is not None else [f"codebook {i}" for i in range(k)]
    fig = make_subplots(rows=k, cols=1, shared_xaxes=True, subplot_titles=roles, vertical_spacing=0.04)
    times = torch.arange(t).float() / frame_rate
    for i in range(k):
        row = codes[i]
        keep = row != silence if silence is not None else torch.ones_like(row, dtype=torch.bool)
        fig.add_trace(go.Scatter(x=times[keep].tolist(), y=row[keep].tolist(), mode="markers",
                                 marker={"size": 4}, name=roles[i], showlegend=False,
                                 hovertemplate="t=%{x:.2f}s<br>token %{y}<extra>" + roles[i] + "</extra>"),
                      row=i + 1, col=1)
        fig.update_yaxes(title_text="token", row=i + 1, col=1)
    fig.update_xaxes(title_text="time (s)", row=k, col=1)
    fig.update_layout(title=title, height=140 * k + 80, template="plotly_white", margin={"t": 60})
    return fig


PROMPT_COLOUR, UNSTEERED_COLOUR = "#1d2430", "#9aa0a8"
STEERED_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


def _points(row: torch.Tensor, start: int, frame_rate: int, silence: int | None) -> tuple[list[float], list[int]]:
    keep = row != silence if silence is not None else torch.ones_like(row, dtype=torch.bool)
    idx = torch.nonzero(keep).flatten()
    return ((idx + start).float() / frame_rate).tolist(), row[idx].tolist()


def codes_pair_figure(unsteered: torch.Tensor, steered: dict[str, torch.Tensor], prompt_frames: int, *,
                      frame_rate: int = 50, roles: Sequence[str] | None = None, title: str = "",
                      silence: int | None = 0) -> go.Figure:
    """Unsteered and steered codes of one prompt as a piano roll per codebook on one time axis.

    ``unsteered`` and each ``steered[name]`` are ``(K, T)`` codes, prompt first (the prompt is drawn once,
    shaded); the continuations are overlaid, unsteered in grey and steered in colour. Several steered
    versions get a dropdown that shows one at a time (the first by default)."""
    unsteered = torch.as_tensor(unsteered)
    k, t = unsteered.shape
    roles = list(roles) if roles is not None else [f"codebook {i}" for i in range(k)]
    fig = make_subplots(rows=k, cols=1, shared_xaxes=True, vertical_spacing=0.03)
    names = list(steered)
    for i in range(k):
        x, y = _points(unsteered[i, :prompt_frames], 0, frame_rate, silence)
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", marker={"size": 4, "color": PROMPT_COLOUR},
                                 name="prompt", legendgroup="prompt", showlegend=i == 0,
                                 hovertemplate="prompt t=%{x:.2f}s token %{y}<extra></extra>"), row=i + 1, col=1)
        x, y = _points(unsteered[i, prompt_frames:], prompt_frames, frame_rate, silence)
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", marker={"size": 6, "color": UNSTEERED_COLOUR},
                                 name="unsteered", legendgroup="unsteered", showlegend=i == 0,
                                 hovertemplate="unsteered t=%{x:.2f}s token %{y}<extra></extra>"), row=i + 1, col=1)
        for j, name in enumerate(names):
            x, y = _points(torch.as_tensor(steered[name])[i, prompt_frames:], prompt_frames, frame_rate, silence)
            fig.add_trace(go.Scatter(x=x, y=y, mode="markers", visible=j == 0, name=f"steered: {name}",
                                     legendgroup=name, showlegend=i == 0,
                                     marker={"size": 4, "symbol": "diamond",
                                             "color": STEERED_COLOURS[j % len(STEERED_COLOURS)]},
                                     hovertemplate=f"{name} t=%{{x:.2f}}s token %{{y}}<extra></extra>"),
                          row=i + 1, col=1)
        fig.update_yaxes(title_text=roles[i], row=i + 1, col=1)
    fig.add_vrect(x0=0, x1=prompt_frames / frame_rate, fillcolor="#4c78a8", opacity=0.08, line_width=0)
    fig.add_vline(x=prompt_frames / frame_rate, line_dash="dash", line_color="#4c78a8")
    fig.update_xaxes(title_text="time (s): prompt (shaded), then the generated continuation", row=k, col=1,
                     range=[0, t / frame_rate])
    fig.update_layout(title=title, height=110 * k + 170, template="plotly_white",
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                      margin={"t": 90, "b": 60})
    if len(names) > 1:
        per = 2 + len(names)
        buttons = [{"label": name, "method": "restyle", "args": [{"visible": [
            m < 2 or m - 2 == j for _ in range(k) for m in range(per)]}]} for j, name in enumerate(names)]
        fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right",
                                        "y": 1.0, "yanchor": "bottom", "showactive": True}])
    return fig


def spectrogram_figure(audio: dict[str, np.ndarray], sample_rate: int, prompt_seconds: float = 0.0, *,
                       n_fft: int = 1024, title: str = "") -> go.Figure:
    """Log-magnitude spectrograms (dB) of several versions stacked on one time axis (for real models)."""
    names = list(audio)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.04)
    hop = n_fft // 4
    window = np.hanning(n_fft).astype(np.float32)
    for i, name in enumerate(names):
        x = np.asarray(audio[name], dtype=np.float32).reshape(-1)
        x = np.pad(x, (0, max(0, n_fft - len(x))))
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * window
        db = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=-1)).T + 1e-6)
        freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
        times = (np.arange(db.shape[1]) * hop + n_fft / 2) / sample_rate
        fig.add_trace(go.Heatmap(z=np.round(db[::2], 1), x=times, y=freqs[::2], colorscale="Magma",
                                 zmin=float(db.max()) - 80, zmax=float(db.max()), showscale=i == 0,
                                 colorbar={"title": "dB"},
                                 hovertemplate="t=%{x:.2f}s %{y:.0f} Hz<br>%{z:.1f} dB<extra>" + name + "</extra>"),
                      row=i + 1, col=1)
        fig.update_yaxes(title_text=f"{name}: Hz", row=i + 1, col=1)
    if prompt_seconds:
        fig.add_vline(x=prompt_seconds, line_dash="dash", line_color="#ffffff")
    fig.update_xaxes(title_text="time (s)", row=len(names), col=1)
    fig.update_layout(title=title, height=180 * len(names) + 120, template="plotly_white")
    return fig
