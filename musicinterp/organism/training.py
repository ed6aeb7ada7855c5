"""Train the organism on fresh world samples (teacher forcing, masked cross-entropy)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import MusicgenForConditionalGeneration

from ..models.delay import teacher_forcing
from ..models.loading import quiet_transformers
from . import vocab as V
from .config import OrganismConfig
from .prompts import build_tokenizer, training_prompt
from .world import OrganismWorld


@dataclass
class TrainingLog:
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def build_model(cfg: OrganismConfig, text_vocab: int) -> MusicgenForConditionalGeneration:
    torch.manual_seed(cfg.seed)
    with quiet_transformers():
        return MusicgenForConditionalGeneration(cfg.musicgen_config(text_vocab))


def code_loss(model: MusicgenForConditionalGeneration, codes: torch.Tensor, input_ids: torch.Tensor,
              attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over real (non-pad) targets of every codebook."""
    inputs, targets = teacher_forcing(codes, V.CODEBOOK_SIZE)
    out = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=inputs)
    logits = out.logits.reshape(*targets.shape, -1)
    mask = targets != V.CODEBOOK_SIZE
    return torch.nn.functional.cross_entropy(logits[mask], targets[mask])


def training_batch(world: OrganismWorld, tokenizer, cfg: OrganismConfig, rng: np.random.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n_frames, batch = cfg.clip_frames, cfg.batch_size
    if cfg.length_batches:
        n_frames, batch = cfg.length_batches[int(rng.integers(len(cfg.length_batches)))]
    seeds = rng.integers(0, 2**31 - 1, size=batch)
    codes, clips = world.batch([int(s) for s in seeds], n_frames=n_frames)
    prompts = [training_prompt(c.latents, rng, cfg.p_mention, cfg.p_empty) for c in clips]
    enc = tokenizer(prompts, return_tensors="pt", padding=True)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    if ids.shape[1] == 0:  # every prompt empty
        ids, mask = torch.zeros(len(prompts), 1, dtype=torch.long), torch.zeros(len(prompts), 1, dtype=torch.long)
    return codes, ids, mask


def train_organism(cfg: OrganismConfig, *, progress: bool = True,
                   on_step: Callable[[int, float], None] | None = None
                   ) -> tuple[MusicgenForConditionalGeneration, TrainingLog]:
    """Train from scratch with ``cfg``; deterministic for a given seed and thread count."""
    tokenizer = build_tokenizer()
    model = build_model(cfg, len(tokenizer))
    model.train()
    world = OrganismWorld(cfg.clip_frames)
    rng = np.random.default_rng(cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        progress_ = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress_))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    log = TrainingLog()
    start = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="training organism", disable=not progress)
    ema = None
    for step in bar:
        codes, ids, mask = training_batch(world, tokenizer, cfg, rng)
        loss = code_loss(model, codes, ids, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        value = loss.item()
        ema = value if ema is None else 0.95 * ema + 0.05 * value
        if step % 10 == 0 or step == cfg.steps - 1:
            log.steps.append(step)
            log.loss.append(value)
            bar.set_postfix(loss=f"{ema:.3f}")
        if on_step is not None:
            on_step(step, value)
    log.seconds = time.perf_counter() - start
    model.eval()
    return model, log


@torch.no_grad()
def heldout_nll(model: MusicgenForConditionalGeneration, n_clips: int = 64, seed: int = 10_000_000,
                n_frames: int = 200, batch: int = 32) -> float:
    """Teacher-forced next-token NLL (nats) on held-out unconditional clips."""
    world = OrganismWorld(n_frames)
    total, count = 0.0, 0
    for i in range(0, n_clips, batch):
        codes, _ = world.batch(range(seed + i, seed + min(i + batch, n_clips)))
        b = codes.shape[0]
        loss = code_loss(model, codes, torch.zeros(b, 1, dtype=torch.long), torch.zeros(b, 1, dtype=torch.long))
        total += float(loss) * b
        count += b
    return total / count
