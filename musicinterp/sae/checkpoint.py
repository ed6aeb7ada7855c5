"""Training checkpoints: the whole trainer state in one atomically written safetensors file.

Tensors: the dictionary, Adam's moments, the per-latent "tokens since fired"
counters and the torch RNG state; the safetensors metadata carries the rest as
JSON (step, scheduler, optimizer groups, history, config, store digest). One
file, so a checkpoint is either wholly there or not at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from ..errors import InputTypeError
from ..store.layout import atomic_save_tensors
from .errors import SAEArtifactError

CHECKPOINT = "checkpoint.safetensors"


def save_checkpoint(path: Path, trainer: Any, step: int, state: dict[str, Any]) -> None:
    """Everything needed to continue after ``step`` completed steps."""
    tensors = {f"ae/{k}": v.detach().cpu() for k, v in trainer.ae.state_dict().items()}
    opt = trainer.optimizer.state_dict()
    for idx, slots in opt["state"].items():
        for name, value in slots.items():
            tensors[f"opt/{idx}/{name}"] = torch.as_tensor(value).detach().cpu()
    tensors["num_tokens_since_fired"] = trainer.num_tokens_since_fired.detach().cpu()
    tensors["rng"] = torch.get_rng_state()
    meta = {"step": step, "param_groups": opt["param_groups"], "scheduler": trainer.scheduler.state_dict(),
            **state}
    atomic_save_tensors(path, tensors, metadata={"checkpoint": json.dumps(meta, default=_jsonable)})


def read_checkpoint_meta(path: Path) -> dict[str, Any]:
    try:
        with safe_open(str(path), framework="pt") as fh:
            return json.loads((fh.metadata() or {})["checkpoint"])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as err:
        raise SAEArtifactError(f"training checkpoint {path} is damaged ({err}); delete it or pass "
                               f"resume=False") from err


def load_checkpoint(path: Path, trainer: Any) -> dict[str, Any]:
    """Restore ``trainer`` in place; returns the checkpoint's metadata."""
    meta = read_checkpoint_meta(path)
    with safe_open(str(path), framework="pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    device = trainer.ae.b_dec.device
    trainer.ae.load_state_dict({k[3:]: v for k, v in tensors.items() if k.startswith("ae/")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("opt/"):
            _, idx, name = key.split("/", 2)
            state.setdefault(int(idx), {})[name] = value if name == "step" else value.to(device)
    trainer.optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    trainer.scheduler.load_state_dict(meta["scheduler"])
    trainer.num_tokens_since_fired = tensors["num_tokens_since_fired"].to(device)
    torch.set_rng_state(tensors["rng"])
    return meta


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise InputTypeError(f"cannot store {type(obj).__name__} in a checkpoint")
