"""``load_model``: random models by name, real checkpoints offline, the organism.

Nothing here touches the network: real checkpoints load with
``local_files_only=True`` from a folder or the user's Hugging Face cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from transformers import MusicgenForConditionalGeneration

from ..errors import InputError
from .hub import (
    CheckpointFileError,
    fetch_command,
    locate_checkpoint,
    quiet_transformers,
)
from .musicgen import MusicGen
from .shapes import random_config
from .sources import find_source, world_of
from .variants import check_supported

RANDOM_SPECS = {"tiny": "tiny", "random-small": "small", "random-medium": "medium", "random-large": "large"}


_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
           "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise InputError(f"unknown dtype {dtype!r}; choose one of {', '.join(_DTYPES)}") from None


def load_model(spec: str, *, dtype: str | torch.dtype = "float32", device: str | torch.device = "cpu",
               seed: int = 0) -> MusicGen:
    """Load a MusicGen by spec and wrap it for tracing.

    ``spec`` is ``"tiny"``, ``"random-small"``, ``"random-medium"``, ``"random-large"``
    (random weights at the real shapes, built only when asked; ``device="meta"``
    builds shapes without memory), ``"organism"`` (the shipped model organism),
    or a local folder / Hugging Face id of a real checkpoint (loaded offline).
    """
    torch_dtype = resolve_dtype(dtype)
    source = find_source(spec)
    if source is not None:
        model = source.load(spec, torch_dtype, torch.device(device))
    elif spec in RANDOM_SPECS:
        model = _build_random(spec, torch_dtype, torch.device(device), seed)
    else:
        model = _load_checkpoint(spec, torch_dtype, torch.device(device))
    world_of(model)  # attaches model.world from its source
    return model


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


def _load_checkpoint(spec: str, dtype: torch.dtype, device: torch.device) -> MusicGen:
    folder = locate_checkpoint(spec)
    check_supported(_read_config(folder), f"checkpoint {spec!r} ({folder})")
    weights = _weights_file(folder)
    try:
        with quiet_transformers():
            model = MusicgenForConditionalGeneration.from_pretrained(
                str(folder), local_files_only=True, dtype=dtype, use_safetensors=True)
    except (OSError, RuntimeError, ValueError, SafetensorError) as err:
        raise CheckpointFileError(
            f"could not read the weights {weights} of checkpoint {spec!r} ({type(err).__name__}: {err}). The file "
            f"is damaged or incomplete: fetch it again with `{fetch_command(spec)}` on a machine with network."
        ) from err
    tokenizer, problem = _local_tokenizer(folder)
    return MusicGen(model.to(device).eval(), spec, tokenizer=tokenizer, source="checkpoint",
                    tokenizer_problem=problem)


def _read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointFileError(f"{path} is missing: a checkpoint folder needs the config.json that "
                                  f"save_pretrained writes next to model.safetensors")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointFileError(f"{path} is not valid JSON ({err}); fetch or save the checkpoint again") from err


def _weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "model.safetensors.index.json"):
        if (folder / name).is_file():
            return folder / name
    found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
    raise CheckpointFileError(
        f"{folder / 'model.safetensors'} is missing (the folder holds {found}). musicinterp reads safetensors "
        f"weights only: fetch the checkpoint again, or load it in transformers and `save_pretrained` it."
    )


def _local_tokenizer(folder: Path) -> tuple[Any | None, str | None]:
    """The checkpoint's own tokenizer, or ``None`` and why (text prompts then fail with that reason)."""
    from transformers import AutoTokenizer

    files = ("tokenizer.json", "spiece.model")
    if not any((folder / name).is_file() for name in files):
        return None, (f"its folder {folder} has no tokenizer files ({' or '.join(files)}, with "
                      f"tokenizer_config.json). Copy the tokenizer files of facebook/musicgen-small (the t5-base "
                      f"tokenizer) into it, or pass input_ids")
    try:
        with quiet_transformers():
            return AutoTokenizer.from_pretrained(str(folder), local_files_only=True), None
    except (OSError, ValueError, TypeError) as err:
        return None, (f"its folder {folder} has tokenizer files that do not load ("
                      f"{type(err).__name__}: {err}). Copy the tokenizer files of "
                      f"facebook/musicgen-small (the t5-base tokenizer) into it, or pass input_ids")
