"""Per-layer, per-head activation summaries of a teacher-forced trace."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..engine.tracing import trace_codes
from ..models.musicgen import MusicGen


@dataclass
class ActivationSummary:
    """RMS of ``attn_z`` per (layer, head) and of ``resid`` per layer over valid frames."""

    head_rms: torch.Tensor  # (layers, heads)
    resid_rms: torch.Tensor  # (layers,)

    def table(self) -> str:
        heads = self.head_rms.shape[1]
        shown = min(heads, 8)
        head_cols = " ".join(f"h{h:<5d}" for h in range(shown)) + (" ..." if heads > shown else "")
        lines = [f"layer  resid   | attn_z RMS per head: {head_cols}"]
        for layer in range(self.head_rms.shape[0]):
            vals = " ".join(f"{v:6.3f}" for v in self.head_rms[layer, :shown].tolist())
            lines.append(f"{layer:5d}  {self.resid_rms[layer]:6.3f}  | {' ' * 20} {vals}")
        return "\n".join(lines)


def summarise_activations(model: MusicGen, codes: torch.Tensor) -> ActivationSummary:
    """Trace ``codes`` and summarise ``attn_z`` (per head) and ``resid`` (per layer)."""
    res = trace_codes(model, codes, read=["attn_z", "resid"], frames="valid", logits=False)
    z = res.activations["attn_z"].float()  # (B, L, T, H, hd)
    r = res.activations["resid"].float()  # (B, L, T, d)
    head_rms = z.pow(2).mean(dim=(0, 2, 4)).sqrt()
    resid_rms = r.pow(2).mean(dim=(0, 2, 3)).sqrt()
    return ActivationSummary(head_rms=head_rms, resid_rms=resid_rms)
