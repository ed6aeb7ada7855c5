"""Train the organism CLAP contrastively on CPU, and save or find its checkpoint.

Rendered world clips (:mod:`musicinterp.organism.clap_data`), longer than the
model's window and cropped at a random offset at every step, are paired with
captions drawn afresh at every step (caption dropout, varied word order and
template). The loss is CLIP's symmetric cross-entropy with soft targets: each
caption's target spreads over every clip in the batch it fits. Everything is
seeded (weights, clips, batches, captions), so on CPU with the same thread
count a retrain reproduces the shipped weights.

The shipped checkpoint (:data:`SHIPPED_CLAP`) is read-only: training writes to
a folder of the user's (default :data:`DEFAULT_CLAP_OUT` in the working
directory) and refuses one inside the installed package.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import ClapModel

from ..store import owned
from .clap_config import OrganismClapConfig, build_clap_tokenizer, clap_feature_extractor, clap_model_config
from .clap_data import TRAIN_SEED0, caption, clap_examples, compatibility, crop_windows, window_frames
from .vocab import FRAME_RATE

SHIPPED_CLAP = Path(__file__).resolve().parent / "clap"
DEFAULT_CLAP_OUT = Path("musicinterp_out") / "organism_clap"
KIND = "organism-clap"
FILES = tuple(__import__("re").compile(p) for p in (
    r"config\.json", r"model\.safetensors", r"tokenizer\.json", r"tokenizer_config\.json",
    r"special_tokens_map\.json", r"preprocessor_config\.json", r"organism_clap\.json"))


@dataclass
class ClapTrainLog:
    """Loss per step and wall time of one training run."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    data_seconds: float = 0.0


def clap_out(out: str | Path | None = None) -> Path:
    """Where a trained organism CLAP goes; refuses the installed package and folders this package did not write."""
    folder = Path(out) if out is not None else Path.cwd() / DEFAULT_CLAP_OUT
    owned.refuse_package_destination(folder, "an organism CLAP checkpoint")
    if folder.exists() and not (folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())):
        owned.check_removable(folder, KIND, FILES)
    return folder


def _captions(labels: torch.Tensor, rng: np.random.Generator, cfg: OrganismClapConfig
              ) -> tuple[list[str], torch.Tensor]:
    pairs = [caption(row.numpy(), rng, cfg.p_mention, cfg.p_single) for row in labels]
    return [p[0] for p in pairs], torch.from_numpy(np.stack([p[1] for p in pairs]))


def contrastive_loss(model: ClapModel, feats: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor,
                     target: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy between CLAP's similarity logits and the row-normalised compatibility ``target``."""
    audio = model.get_audio_features(input_features=feats,
                                     is_longer=torch.zeros(len(feats), 1, dtype=torch.bool)).pooler_output
    text = model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
    logits_t = model.logit_scale_t.exp() * text @ audio.T  # (caption, clip)
    logits_a = model.logit_scale_a.exp() * audio @ text.T  # (clip, caption)
    t_target = target / target.sum(1, keepdim=True)
    a_target = target.T / target.T.sum(1, keepdim=True)
    loss_t = -(t_target * logits_t.log_softmax(1)).sum(1).mean()
    loss_a = -(a_target * logits_a.log_softmax(1)).sum(1).mean()
    return 0.5 * (loss_t + loss_a)


def _schedule(cfg: OrganismClapConfig):
    def factor(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        return 0.5 * (1 + math.cos(math.pi * (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)))
    return factor


def train_organism_clap(cfg: OrganismClapConfig, progress: bool = True) -> tuple[ClapModel, ClapTrainLog]:
    """Render ``cfg.n_train_clips`` world clips, then train a fresh ``ClapModel`` for ``cfg.steps`` steps."""
    from tqdm.auto import tqdm

    log, t0 = ClapTrainLog(), time.perf_counter()
    tokenizer, extractor = build_clap_tokenizer(), clap_feature_extractor(cfg)
    feats, labels = clap_examples(range(TRAIN_SEED0, TRAIN_SEED0 + cfg.n_train_clips), extractor,
                                  int(max(cfg.render_seconds, cfg.clip_seconds) * FRAME_RATE), progress=progress,
                                  p_perturb=cfg.p_perturb)
    frames = window_frames(extractor)
    log.data_seconds = time.perf_counter() - t0
    torch.manual_seed(cfg.seed)
    model = ClapModel(clap_model_config(cfg, len(tokenizer))).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg))
    rng = np.random.default_rng([cfg.seed, 7])
    bar = tqdm(range(cfg.steps), desc="training organism CLAP", disable=not progress)
    for step in bar:
        idx = torch.from_numpy(rng.choice(len(feats), size=min(cfg.batch_size, len(feats)), replace=False))
        texts, masks = _captions(labels[idx], rng, cfg)
        enc = tokenizer(texts, padding=True, return_tensors="pt")
        loss = contrastive_loss(model, crop_windows(feats[idx], frames, rng), enc["input_ids"], enc["attention_mask"],
                                compatibility(labels[idx], masks))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        log.steps.append(step)
        log.loss.append(round(loss.item(), 4))
        bar.set_postfix(loss=f"{log.loss[-1]:.3f}")
    log.seconds = time.perf_counter() - t0
    return model.eval(), log


def save_organism_clap(model: ClapModel, cfg: OrganismClapConfig, folder: str | Path,
                       extra: dict | None = None) -> Path:
    """Write weights, config, tokenizer, feature extractor and metadata atomically into ``folder``."""
    folder = clap_out(folder)

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        build_clap_tokenizer().save_pretrained(tmp)
        clap_feature_extractor(cfg).save_pretrained(tmp)
        (tmp / "organism_clap.json").write_text(json.dumps({"config": cfg.to_dict(), **(extra or {})}, indent=1))

    owned.publish(folder, KIND, FILES, write)
    return folder


def shipped_clap() -> Path:
    """The organism CLAP shipped in the package (what ``load_clap("organism")`` resolves to)."""
    return SHIPPED_CLAP
