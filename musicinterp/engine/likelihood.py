"""Teacher-forced likelihood: the negative log-likelihood of codes under a model.

The fidelity of a steered generation is measured as its NLL under the unsteered
model, frame by frame through the delay pattern (see ``MusicGen.logits_to_frames``).
Inside ``with steerer.apply(model)`` the likelihood is the steered model's (the
active steerers' edits at every position, as in ``trace_codes``).
"""

from __future__ import annotations

import torch

from ..models.musicgen import Conditioning, MusicGen
from .active import active_steerers
from .tracing import trace_codes


@torch.no_grad()
def nll_under(model: MusicGen, codes: torch.Tensor, cond: Conditioning | None = None, start_frame: int = 0,
              batch: int = 32) -> torch.Tensor:
    """Per-clip mean negative log-likelihood (nats/token) of frames ``start_frame:`` under ``model``.

    Under the steered model when steerers are active on ``model`` (see :mod:`.active`).
    """
    steered = bool(active_steerers(model))
    out = []
    for i in range(0, codes.shape[0], batch):
        c = codes[i : i + batch]
        sub = None
        if cond is not None:
            sub = Conditioning(cond.input_ids[i : i + batch], cond.attention_mask[i : i + batch])
        if steered:  # trace_codes applies the active steerers' edits
            logits = trace_codes(model, c, cond=sub).logits  # (B, K, T+K, V)
        else:
            logits = model.forward_logits(c, sub)
        t = c.shape[-1]
        frame_logits = model.logits_to_frames(logits, t)  # (B, K, T, V) predicting frame t of codebook k
        logp = torch.log_softmax(frame_logits.float(), dim=-1)
        tok = logp.gather(-1, c.to(logp.device).unsqueeze(-1)).squeeze(-1)  # (B, K, T)
        out.append(-tok[..., start_frame:].mean(dim=(1, 2)).cpu())
    return torch.cat(out)
