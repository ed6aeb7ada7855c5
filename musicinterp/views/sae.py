"""SAE views: feature density histogram, training curve, feature map, feature page, frame raster.

Pure functions: each takes tensors, result tables or the SAE results themselves
(an ``SAEEvaluation``, a ``FeatureAnalysis``) and returns a ``go.Figure``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots


def density_histogram(density: Any, title: str | None = None, bins: int = 40) -> go.Figure:
    """log10 of each feature's firing frequency (SAELens's plot); dead features counted apart.

    ``density`` is a tensor of firing frequencies, or an ``SAEEvaluation`` (``mi.sae.evaluate``)."""
    if hasattr(density, "density"):
        title = title or f"Feature density: {density.sae}"
        density = density.density
    title = title or "Feature density"
    d = density.float()
    alive = d[d > 0]
    fig = go.Figure(go.Histogram(x=torch.log10(alive).tolist(), nbinsx=bins, name="alive features"))
    fig.update_layout(title=f"{title} ({int((d == 0).sum())} of {d.numel()} features dead)",
                      xaxis_title="log10 fraction of frames the feature fires on", yaxis_title="features",
                      template="plotly_white", bargap=0.05)
    return fig


def training_curve(history: Sequence[dict[str, float]], title: str = "SAE training") -> go.Figure:
    """FVE and dead fraction (left axis) and L0 (right axis) against step."""
    steps = [h["step"] for h in history]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=steps, y=[h["fve"] for h in history], name="FVE"), secondary_y=False)
    fig.add_trace(go.Scatter(x=steps, y=[h["dead"] for h in history], name="dead fraction"), secondary_y=False)
    fig.add_trace(go.Scatter(x=steps, y=[h["l0"] for h in history], name="L0", line={"dash": "dot"}),
                  secondary_y=True)
    fig.update_layout(title=title, xaxis_title="step", template="plotly_white")
    fig.update_yaxes(title_text="fraction", range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="L0", secondary_y=True)
    return fig


def feature_map(xy: torch.Tensor, best_concept: Sequence[str], best_auc: torch.Tensor, density: torch.Tensor,
                title: str = "Decoder directions (UMAP)") -> go.Figure:
    """Each feature's decoder direction in 2-D, coloured by its best concept; size grows with density."""
    fig = go.Figure()
    dens = density.float().clamp_min(1e-6)
    size = (4 + 3 * (torch.log10(dens) + 6)).clamp(3, 22)
    for concept in sorted(set(best_concept)):
        idx = [i for i, c in enumerate(best_concept) if c == concept]
        fig.add_trace(go.Scatter(
            x=xy[idx, 0].tolist(), y=xy[idx, 1].tolist(), mode="markers", name=concept,
            marker={"size": size[idx].tolist(), "opacity": 0.75},
            customdata=[[i, float(best_auc[i]), float(density[i])] for i in idx],
            hovertemplate="feature %{customdata[0]}<br>AUC %{customdata[1]:.3f}<br>density %{customdata[2]:.4f}"
                          "<extra>%{fullData.name}</extra>"))
    fig.update_layout(title=title, template="plotly_white", xaxis={"visible": False}, yaxis={"visible": False},
                      legend_title="best concept (AUC)")
    return fig


def feature_page(page: Any, feature: int | None = None, n_clips: int = 3) -> go.Figure:
    """One feature: activation histogram, selectivity per concept, cosines, and its top clips over time.

    ``page`` is ``FeatureAnalysis.page(feature)``, or the ``FeatureAnalysis`` itself with ``feature``."""
    if not isinstance(page, dict):
        page = page.page(feature, n_clips)
    fig = make_subplots(rows=2, cols=2, subplot_titles=(
        "activation histogram (frames where it fires)", "selectivity: AUC of the clip-pooled activation",
        "activation over time, top clips", "cosine of the decoder direction with concept directions"),
        vertical_spacing=0.16, horizontal_spacing=0.1)
    x, y, ticks = _log_histogram(page["hist_edges"], page["hist_counts"])
    fig.add_trace(go.Bar(x=x, y=y, name="frames", showlegend=False, marker_color="#4c78a8",
                         hovertemplate="activation about %{customdata:.3g}<br>%{y} frames<extra></extra>",
                         customdata=[10 ** v for v in x]), row=1, col=1)
    fig.update_xaxes(tickvals=[math.log10(t) for t in ticks], ticktext=[f"{t:g}" for t in ticks],
                     title_text="activation (log scale)", row=1, col=1)
    concepts = list(page["auc"])
    fig.add_trace(go.Bar(x=concepts, y=[page["auc"][c] for c in concepts], name="AUC", showlegend=False),
                  row=1, col=2)
    for clip in page["top_clips"]:
        fig.add_trace(go.Scatter(y=clip["activation"], mode="lines", name=f"{clip['clip_id']} "
                                 f"(mean {clip['pooled']:.2f})"), row=2, col=1)
    for kind in ("diffmeans", "probe"):
        vals = page["cosines"].get(kind, {})
        fig.add_trace(go.Bar(x=list(vals), y=list(vals.values()), name=f"cos with {kind}"), row=2, col=2)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_yaxes(range=[-1, 1], row=2, col=2)
    fig.update_xaxes(title_text="frame", row=2, col=1)
    fig.update_yaxes(title_text="frames", row=1, col=1)
    fig.update_layout(title=f"Feature {page['feature']}: density {page['density']:.4f}, best concept "
                            f"{page['best_concept']} (AUC {page['best_auc']:.3f})",
                      template="plotly_white", height=700, barmode="group")
    return fig


def _log_histogram(edges: Sequence[float], counts: Sequence[float]) -> tuple[list[float], list[float], list[float]]:
    """Bins on log-spaced ``edges`` as bars at log10 of each bin's geometric centre, trimmed to the
    non-empty range, and the powers of ten to label the axis with."""
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero:
        return [0.0], [0.0], [1.0]
    lo, hi = nonzero[0], nonzero[-1] + 1
    x = [(math.log10(edges[i]) + math.log10(edges[i + 1])) / 2 for i in range(lo, hi)]
    y = [float(c) for c in counts[lo:hi]]
    ticks = [10.0 ** p for p in range(math.floor(math.log10(edges[lo])), math.ceil(math.log10(edges[hi])) + 1)]
    return x, y, ticks


def frame_raster(acts: torch.Tensor, features: Sequence[int], clip_id: str, labels: Sequence[str] | None = None
                 ) -> go.Figure:
    """Features x time activations of one clip (``acts`` is ``(frames, len(features))``)."""
    names = [f"f{f}" + (f" ({labels[i]})" if labels else "") for i, f in enumerate(features)]
    fig = go.Figure(go.Heatmap(z=acts.T.tolist(), y=names, colorscale="Viridis", colorbar={"title": "activation"},
                               hovertemplate="frame %{x}<br>%{y}<br>activation %{z:.3f}<extra></extra>"))
    fig.update_layout(title=f"SAE features over time: clip {clip_id}", xaxis_title="frame", template="plotly_white",
                      height=max(300, 22 * len(features) + 120))
    return fig


def evaluation_bars(per_codebook: Sequence[dict[str, Any]], title: str = "Spliced SAE, per codebook") -> go.Figure:
    """ce_loss_score and kl_div_score per codebook (1 = the SAE costs nothing, 0 = as bad as zeroing)."""
    names = [c["codebook"] for c in per_codebook]
    fig = go.Figure([go.Bar(x=names, y=[c["ce_loss_score"] for c in per_codebook], name="ce_loss_score"),
                     go.Bar(x=names, y=[c["kl_div_score"] for c in per_codebook], name="kl_div_score")])
    fig.update_layout(title=title, barmode="group", yaxis_title="score", template="plotly_white")
    return fig


def feature_raster(analysis: Any, clip_id: str, features: Sequence[int] | None = None, n: int = 16) -> go.Figure:
    """Features x time for one clip of a ``FeatureAnalysis``; by default the ``n`` features most active in it."""
    acts = analysis.clip_activations(clip_id)
    if features is None:
        features = torch.argsort(acts.sum(0), descending=True)[:n].tolist()
    names, _ = analysis.best_concept()
    return frame_raster(acts[:, list(features)], list(features), clip_id, [names[f] for f in features])


def decoder_map(analysis: Any, seed: int = 0, n_neighbors: int = 15) -> go.Figure:
    """UMAP of a ``FeatureAnalysis``'s decoder directions, coloured by best concept, sized by density."""
    from ..sae.maps import decoder_map as umap_of_directions

    names, value = analysis.best_concept()
    xy = umap_of_directions(analysis.sae.directions, n_neighbors=n_neighbors, seed=seed)
    return feature_map(xy, names, value, analysis.density)
