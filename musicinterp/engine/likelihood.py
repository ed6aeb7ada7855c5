"""Teacher-forced likelihood: the negative log-likelihood of codes under a model.

The fidelity of a steered generation is measured as its NLL under the unsteered
model, frame by frame through the delay pattern (see ``MusicGen.logits_to_frames``).
"""

from __future__ import annotations

import torch

from ..models.musicgen import Conditioning, MusicGen


@torch.no_grad()
def nll_under(model: MusicGen, codes: torch.Tensor, cond: Conditioning | None = None, start_frame: int = 0,
              batch: int = 32) -> torch.Tensor:
    """Per-clip mean negative log-likelihood (nats/token) of frames ``start_frame:`` under ``model``."""
    out = []
    for i in range(0, codes.shape[0], batch):
        c = codes[i : i + batch]
        sub = None
        if cond is not None:
            sub = Conditioning(cond.input_ids[i : i + batch], cond.attention_mask[i : i + batch])
        logits = model.forward_logits(c, sub)  # (B, K, T+K, V)
        t = c.shape[-1]
        frame_logits = model.logits_to_frames(logits, t)  # (B, K, T, V) predicting frame t of codebook k
        logp = torch.log_softmax(frame_logits.float(), dim=-1)
        tok = logp.gather(-1, c.to(logp.device).unsqueeze(-1)).squeeze(-1)  # (B, K, T)
        out.append(-tok[..., start_frame:].mean(dim=(1, 2)).cpu())
    return torch.cat(out)
