"""Plotly figure builders: pure functions from results to figures (views import results, never the reverse)."""

from .ablation import codebook_breakdown, layer_bars, read_vs_used, sweep_heatmap
from .audio import players
from .codes import codes_figure, codes_pair_figure, spectrogram_figure
from .matrix import matrix_heatmap
from .offline import save_figure_html
from .probes import concept_grid, head_heatmap, layer_accuracy_curve
from .sae import (
    decoder_map,
    density_histogram,
    evaluation_bars,
    feature_map,
    feature_page,
    feature_raster,
    frame_raster,
    training_curve,
)
from .steering import comparison_table, markdown_table, monitor_trace_figure, success_vs_fidelity
from .training import loss_curve_figure

__all__ = ["layer_bars", "sweep_heatmap", "codebook_breakdown", "read_vs_used", "players", "codes_figure", "codes_pair_figure", "spectrogram_figure",
           "matrix_heatmap", "save_figure_html", "head_heatmap", "concept_grid", "layer_accuracy_curve",
           "density_histogram", "evaluation_bars", "feature_raster", "decoder_map", "feature_map", "feature_page", "frame_raster", "training_curve",
           "comparison_table", "markdown_table", "monitor_trace_figure", "success_vs_fidelity", "loss_curve_figure"]
