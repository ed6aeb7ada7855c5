"""``load_model``: random models by name, real checkpoints offline, the organism.

Nothing here touches the network: real checkpoints load with
``local_files_only=True`` from a folder or the user's Hugging Face cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import MusicgenForConditionalGeneration

from .hub import CheckpointNotFoundError, quiet_transformers
from .musicgen import MusicGen
from .shapes import random_config

RANDOM_SPECS = {"tiny": "tiny", "random-small": "small", "random-medium": "medium", "random-large": "large"}


_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
           "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(_DTYPES)}") from None


def load_model(spec: str, *, dtype: str | torch.dtype = "float32", device: str | torch.device = "cpu",
               seed: int = 0) -> MusicGen:
    """Load a MusicGen by spec and wrap it for tracing.

    ``spec`` is ``"tiny"``, ``"random-small"``, ``"random-medium"``, ``"random-large"``
    (random weights at the real shapes, built only when asked; ``device="meta"``
    builds shapes without memory), ``"organism"`` (the shipped model organism),
    or a local folder / Hugging Face id of a real checkpoint (loaded offline).
    """
    torch_dtype = resolve_dtype(dtype)
    if spec in RANDOM_SPECS:
        return _build_random(spec, torch_dtype, torch.device(device), seed)
    if spec == "organism" or spec.startswith("organism:"):
        from ..organism.checkpoint import load_organism

        path = spec.split(":", 1)[1] if ":" in spec else None
        return load_organism(path, dtype=torch_dtype, device=device)
    return _load_checkpoint(spec, torch_dtype, torch.device(device))


def _build_random(spec: str, dtype: torch.dtype, device: torch.device, seed: int) -> MusicGen:
    with quiet_transformers():
        config = random_config(RANDOM_SPECS[spec])
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype if dtype.is_floating_point else torch.float32)
    try:
        with device, quiet_transformers():
            model = MusicgenForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    return MusicGen(model.eval(), spec, source="random")


def _load_checkpoint(path_or_id: str, dtype: torch.dtype, device: torch.device) -> MusicGen:
    local = Path(path_or_id).expanduser()
    try:
        model = MusicgenForConditionalGeneration.from_pretrained(
            str(local) if local.exists() else path_or_id, local_files_only=True, dtype=dtype
        )
    except OSError as err:
        raise CheckpointNotFoundError(
            f"MusicGen checkpoint {path_or_id!r} was not found locally (looked in {local} and in the "
            f"Hugging Face cache {_hf_cache()}). musicinterp never downloads weights: on a machine with "
            f"network access run `huggingface-cli download {path_or_id}` (or save the model with "
            f"`save_pretrained`) and pass that folder or id again."
        ) from err
    tokenizer = _local_tokenizer(str(local) if local.exists() else path_or_id)
    return MusicGen(model.to(device).eval(), path_or_id, tokenizer=tokenizer, source="checkpoint")


def _local_tokenizer(path_or_id: str):
    """The checkpoint's own tokenizer when its files are present; ``None`` otherwise."""
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path_or_id, local_files_only=True)
    except (OSError, ValueError):
        return None


def _hf_cache() -> str:
    return os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub")
