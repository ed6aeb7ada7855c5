"""Saving and loading the organism: safetensors weights + JSON config, tokenizer, training log.

The checkpoint shipped inside the package (:data:`SHIPPED`) is read-only: a
trained organism goes to a folder of the user's (by default
:data:`DEFAULT_OUT` in the working directory), never into the installed
package. A folder that already holds an organism this package wrote (its
marker, nothing else in it) is replaced; any other non-empty folder is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from transformers import MusicgenForConditionalGeneration, PreTrainedTokenizerFast

from ..models.hub import CheckpointNotFoundError, quiet_transformers
from ..models.musicgen import MusicGen
from ..store import owned
from .config import OrganismConfig
from .renderer import render

SHIPPED = Path(__file__).resolve().parent / "checkpoint"
DEFAULT_OUT = Path("musicinterp_out") / "organism"  # relative to the working directory
FILES = tuple(re.compile(p) for p in (r"config\.json", r"generation_config\.json", r"model\.safetensors",
                                      r"organism\.json", r"tokenizer\.json", r"loss_curve\.html",
                                      r"\.loss_curve\.html\.tmp-\d+"))


def organism_out(out: str | Path | None = None) -> Path:
    """Where a trained organism goes: ``out``, or :data:`DEFAULT_OUT` in the working directory.

    Refuses (before any training) a folder inside the installed package and a non-empty folder that
    is not an organism this package wrote (:class:`musicinterp.store.errors.StoreOverwriteError`).
    """
    folder = Path(out) if out is not None else Path.cwd() / DEFAULT_OUT
    owned.refuse_package_destination(folder, "an organism checkpoint")
    if folder.exists() and not (folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())):
        owned.check_removable(folder, "organism", FILES)
    return folder


def save_organism(model: MusicgenForConditionalGeneration, tokenizer: PreTrainedTokenizerFast,
                  cfg: OrganismConfig, folder: str | Path, extra: dict | None = None) -> Path:
    """Write the checkpoint atomically: a temporary folder renamed into place (see :func:`organism_out`)."""
    folder = organism_out(folder)

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        (tmp / "organism.json").write_text(json.dumps({"config": cfg.to_dict(), **(extra or {})}, indent=2))

    owned.publish(folder, "organism", FILES, write)  # replaces only an organism of ours (organism_out checked)
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
