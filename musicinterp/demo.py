"""``musicinterp demo``: the main job, end to end on one model."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .models import load_model
from .summary import summarise_activations


def run_demo(out: str | Path = "musicinterp_out", *, model_spec: str | None = None, quick: bool = False) -> dict:
    """Trace the model on clips and write a per-layer, per-head activation summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = model_spec or "tiny"
    model = load_model(spec)
    print(f"model: {spec} ({model.n_layers} layers x {model.n_heads} heads, fingerprint {model.fingerprint})")
    gen = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (4, model.n_codebooks, 50 if quick else 100), generator=gen)
    summary = summarise_activations(model, codes)
    print(summary.table())
    report = {"model": spec, "fingerprint": model.fingerprint,
              "attn_z_rms": summary.head_rms.tolist(), "resid_rms": summary.resid_rms.tolist()}
    (out / "activation_summary.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {out / 'activation_summary.json'}")
    return report
