"""Saving and loading the organism: safetensors weights + JSON config, tokenizer, training log."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import MusicgenForConditionalGeneration, PreTrainedTokenizerFast

from ..models.hub import CheckpointNotFoundError, quiet_transformers
from ..models.musicgen import MusicGen
from .config import OrganismConfig
from .renderer import render

SHIPPED = Path(__file__).resolve().parent / "checkpoint"


def save_organism(model: MusicgenForConditionalGeneration, tokenizer: PreTrainedTokenizerFast,
                  cfg: OrganismConfig, folder: str | Path, extra: dict | None = None) -> Path:
    """Write the checkpoint atomically: a temporary folder renamed into place."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".organism-", dir=folder.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        (tmp / "organism.json").write_text(json.dumps({"config": cfg.to_dict(), **(extra or {})}, indent=2))
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def load_tokenizer(folder: Path) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), pad_token="[PAD]",
                                   unk_token="[UNK]")


def organism_metadata(folder: str | Path | None = None) -> dict:
    folder = Path(folder) if folder else SHIPPED
    return json.loads((folder / "organism.json").read_text())


def load_organism(folder: str | Path | None = None, *, dtype: torch.dtype = torch.float32,
                  device: str | torch.device = "cpu") -> MusicGen:
    """Load the shipped organism (or one trained into ``folder``) as a MusicGen handle."""
    folder = Path(folder) if folder else SHIPPED
    if not (folder / "organism.json").is_file() or not (folder / "model.safetensors").is_file():
        raise CheckpointNotFoundError(
            f"no organism checkpoint in {folder}; train one with `musicinterp organism train --out {folder}`")
    with quiet_transformers():
        model = MusicgenForConditionalGeneration.from_pretrained(folder, local_files_only=True, dtype=dtype)
    meta = organism_metadata(folder)
    handle = MusicGen(model.to(device).eval(), "organism", tokenizer=load_tokenizer(folder), renderer=render,
                      source="organism")
    handle.generation_defaults = dict(OrganismConfig.from_dict(meta["config"]).generation)
    return handle
