"""dictionary_learning's TopK and BatchTopK SAEs and trainers, by name.

Only ``dictionary_learning.trainers.top_k`` / ``.batch_top_k`` are imported:
``dictionary_learning.training`` imports wandb at module level and
``dictionary_learning.utils`` needs ``datasets``; the project drives
``trainer.update(step, x)`` in its own loop instead.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InputError
from .config import TrainConfig


def classes(arch: str) -> tuple[type[nn.Module], type]:
    """(dictionary class, trainer class) for ``arch``."""
    if arch == "topk":
        from dictionary_learning.trainers.top_k import AutoEncoderTopK, TopKTrainer

        return AutoEncoderTopK, TopKTrainer
    if arch == "batch_topk":
        from dictionary_learning.trainers.batch_top_k import BatchTopKSAE, BatchTopKTrainer

        return BatchTopKSAE, BatchTopKTrainer
    raise InputError(f"unknown SAE architecture {arch!r}")


def empty_dictionary(arch: str, d_in: int, dict_size: int, k: int) -> nn.Module:
    """An untrained dictionary of the right shape (to load weights into)."""
    dict_cls, _ = classes(arch)
    return dict_cls(d_in, dict_size, int(k))


def make_trainer(cfg: TrainConfig, d_in: int, model_id: str = "musicgen"):
    """A dictionary_learning trainer set up from a resolved config (schedules scaled to the run)."""
    _, trainer_cls = classes(cfg.arch)
    trainer = trainer_cls(
        steps=cfg.steps, activation_dim=d_in, dict_size=cfg.dict_size, k=cfg.k, layer=cfg.layer,
        lm_name=model_id, lr=cfg.lr, auxk_alpha=cfg.auxk_alpha, warmup_steps=cfg.warmup_steps,
        decay_start=cfg.decay_start, threshold_beta=cfg.threshold_beta,
        threshold_start_step=cfg.threshold_start_step, seed=cfg.seed, device=cfg.device,
        submodule_name=cfg.site)
    trainer.dead_feature_threshold = int(cfg.dead_tokens)
    trainer.num_tokens_since_fired = trainer.num_tokens_since_fired.to(torch.device(cfg.device))
    return trainer
