"""A trained SAE with everything needed to use it on live activations, saved as safetensors + JSON.

The dictionary works in normalised units (activations divided by
``norm_factor``, so that E||x||^2 = d over the store). :class:`SAE` hides that:
:meth:`encode` takes activations in model units and :meth:`decode` returns them.
Feature ``i``'s direction is the decoder column ``decoder.weight[:, i]`` (unit
norm); in model units a feature activation ``a`` contributes
``a * decoder.weight[:, i] * norm_factor``.

``sae.json`` holds the SHA-256 of ``sae.safetensors``; loading checks it, every
field's type and bound (sizes before anything is allocated from them), the
tensors' shapes and that every weight is finite (a diverged run is never saved).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._version import __version__
from ..data.names import UnsafeNameError, safe_name
from ..errors import InputError
from ..store import tensorfile as TF
from ..store.errors import StoreModelMismatchError
from ..store.layout import atomic_save_tensors, atomic_write_json
from ..store.owned import write_marker
from .architectures import empty_dictionary
from .config import BOUNDS
from .errors import SAEArtifactError

WEIGHTS = "sae.safetensors"
INFO = "sae.json"
FORMAT_VERSION = 1
REQUIRED = ("format_version", "architecture", "d_in", "dict_size", "k", "norm_factor", "site", "layer", "head",
            "model_fingerprint", "model_id", "store_digest", "training", "weights_sha256")
STATE_KEYS = ("encoder.weight", "encoder.bias", "decoder.weight", "b_dec", "k", "threshold")


@dataclass
class SAE:
    """A dictionary_learning TopK/BatchTopK dictionary plus where it was trained and how."""

    ae: nn.Module
    arch: str
    norm_factor: float
    site: str
    layer: int
    head: int | None
    model_fingerprint: str
    model_id: str
    store_digest: str
    training: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)  # store path, concept set, history, versions

    # ---------------------------------------------------------------- shapes
    @property
    def d_in(self) -> int:
        return int(self.ae.activation_dim)

    @property
    def dict_size(self) -> int:
        return int(self.ae.dict_size)

    @property
    def k(self) -> int:
        return int(self.ae.k)

    @property
    def threshold(self) -> float:
        return float(self.ae.threshold)

    @property
    def device(self) -> torch.device:
        return self.ae.b_dec.device

    @property
    def directions(self) -> torch.Tensor:
        """Decoder columns ``(d_in, dict_size)``, unit norm: column ``i`` is feature ``i``'s direction."""
        return self.ae.decoder.weight.detach()

    def direction(self, feature: int) -> torch.Tensor:
        """Feature ``feature``'s unit direction ``(d_in,)`` (never a decoded one-hot: that adds ``b_dec``)."""
        self._check_feature(feature)
        return self.directions[:, feature]

    def _check_feature(self, feature: int) -> None:
        if not 0 <= int(feature) < self.dict_size:
            raise IndexError(f"feature {feature} out of range for an SAE of {self.dict_size} features")

    def __repr__(self) -> str:
        where = f"{self.site}[L{self.layer}" + (f" H{self.head}]" if self.head is not None else "]")
        return (f"SAE({self.arch}, {where}, d_in={self.d_in}, dict_size={self.dict_size}, k={self.k}, "
                f"model={self.model_id!r})")

    # ------------------------------------------------------------ computing
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Feature activations ``(..., dict_size)`` for activations ``(..., d_in)`` in model units."""
        if x.shape[-1] != self.d_in:
            raise InputError(f"activations have last dimension {x.shape[-1]}, this SAE expects {self.d_in}")
        xn = x.to(self.device, torch.float32) / self.norm_factor
        if self.arch == "batch_topk":
            return self.ae.encode(xn, use_threshold=True)
        return self.ae.encode(xn)

    @torch.no_grad()
    def decode(self, f: torch.Tensor) -> torch.Tensor:
        """Reconstructions in model units (``decoder(f) + b_dec``, times ``norm_factor``)."""
        return self.ae.decode(f.to(self.device, torch.float32)) * self.norm_factor

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)).to(x.dtype)

    def to(self, device: str | torch.device) -> SAE:
        self.ae.to(device)
        return self

    # ------------------------------------------------------------------ io
    def info(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "architecture": self.arch, "d_in": self.d_in,
                "dict_size": self.dict_size, "k": self.k, "threshold": self.threshold,
                "norm_factor": self.norm_factor, "site": self.site, "layer": self.layer, "head": self.head,
                "model_fingerprint": self.model_fingerprint, "model_id": self.model_id,
                "store_digest": self.store_digest, "training": self.training, "meta": self.meta,
                "package_version": __version__}

    def save(self, folder: str | Path) -> Path:
        """Write ``sae.safetensors`` then ``sae.json`` (each atomically; the JSON holds the weights' digest).

        Refuses (:class:`SAEArtifactError`) weights that are not finite: a diverged run is not saved.
        """
        folder = Path(folder)
        state = {k: v.detach().cpu().contiguous() for k, v in self.ae.state_dict().items()}
        for name, t in state.items():
            TF.check_finite(f"{folder / WEIGHTS} (not saved)", name, t, SAEArtifactError)
        write_marker(folder, "sae")
        info = self.info()
        info["weights_sha256"] = atomic_save_tensors(folder / WEIGHTS, state).sha256
        atomic_write_json(folder / INFO, info)
        self.meta["saved_to"] = str(folder)
        return folder

    def check_model(self, model: Any) -> None:
        if model.fingerprint != self.model_fingerprint:
            raise StoreModelMismatchError(
                f"SAE at {self.site} layer {self.layer} was trained on model {self.model_id!r} (fingerprint "
                f"{self.model_fingerprint}), not on {model.name!r} (fingerprint {model.fingerprint})")


def load(folder: str | Path, model: Any = None) -> SAE:
    """Load an SAE artifact; with ``model``, refuse one trained on another model."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SAEArtifactError(f"no SAE at {folder}: not a folder")
    info = read_info(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise SAEArtifactError(f"SAE {folder} is damaged: missing {WEIGHTS}")
    state = TF.read_tensors(weights, SAEArtifactError, checksum=("sha256", info["weights_sha256"]),
                            checksum_error=lambda msg: SAEArtifactError(
                                f"SAE {folder} is damaged: {WEIGHTS} does not match the digest in {INFO} ({msg})"))
    missing = [k for k in STATE_KEYS if k not in state]
    if missing or set(state) != set(STATE_KEYS):
        what = f"lacks tensors {', '.join(missing)}" if missing else f"holds tensors {sorted(set(state) - set(STATE_KEYS))}"
        raise SAEArtifactError(f"SAE {folder} is damaged: {WEIGHTS} {what}")
    want = {"encoder.weight": (info["dict_size"], info["d_in"]), "decoder.weight": (info["d_in"], info["dict_size"]),
            "encoder.bias": (info["dict_size"],), "b_dec": (info["d_in"],), "k": (), "threshold": ()}
    for key, shape in want.items():
        if tuple(state[key].shape) != shape:
            raise SAEArtifactError(f"SAE {folder}: {key} has shape {tuple(state[key].shape)}, {INFO} says {shape}")
    ae = empty_dictionary(info["architecture"], info["d_in"], info["dict_size"], info["k"])
    try:
        ae.load_state_dict(state)
    except RuntimeError as err:  # dtypes the module cannot take
        raise SAEArtifactError(f"SAE {folder} is damaged: {WEIGHTS} does not fit the dictionary ({err})") from err
    sae = SAE(ae=ae.eval(), arch=info["architecture"], norm_factor=float(info["norm_factor"]), site=info["site"],
              layer=int(info["layer"]), head=info["head"], model_fingerprint=info["model_fingerprint"],
              model_id=info["model_id"], store_digest=info["store_digest"], training=info["training"],
              meta={**info.get("meta", {}), "saved_to": str(folder)})
    if model is not None:
        sae.check_model(model)
    return sae


def read_info(folder: Path) -> dict[str, Any]:
    path = folder / INFO
    if not path.is_file():
        raise SAEArtifactError(f"no SAE at {folder}: missing {INFO}")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise SAEArtifactError(f"SAE {folder} is damaged: {INFO} is not valid JSON ({err})") from err
    if not isinstance(info, dict):
        raise SAEArtifactError(f"SAE {folder} is damaged: {INFO} does not hold an object")
    missing = [k for k in REQUIRED if k not in info]
    if missing:
        raise SAEArtifactError(f"SAE {folder} is damaged: {INFO} lacks fields {', '.join(missing)}")
    if info["architecture"] not in ("topk", "batch_topk"):
        raise SAEArtifactError(f"SAE {folder}: {INFO} field architecture is {info['architecture']!r}, "
                               f"expected 'topk' or 'batch_topk'")
    for key, (ok, what) in _FIELDS.items():
        if key in info and not ok(info[key]):
            shown = repr(info[key]) if len(repr(info[key])) <= 60 else repr(info[key])[:57] + "..."
            raise SAEArtifactError(f"SAE {folder}: {INFO} field {key} must be {what}, got {shown}")
    if info["format_version"] > FORMAT_VERSION:
        raise SAEArtifactError(f"SAE {folder} has format_version {info['format_version']}; this musicinterp "
                               f"reads up to {FORMAT_VERSION}")
    if info["k"] > info["dict_size"]:
        raise SAEArtifactError(f"SAE {folder}: {INFO} field k={info['k']} is larger than dict_size")
    try:
        safe_name(info["site"], field=f"SAE {folder}: {INFO} field site")
    except UnsafeNameError as err:
        raise SAEArtifactError(str(err)) from err
    return info


def _int(v: Any, low: int, high: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


# field -> (check, what it must be); sizes bounded before anything is allocated from them
_FIELDS: dict[str, tuple[Any, str]] = {
    "format_version": (lambda v: _int(v, 1, 1_000), "a positive integer"),
    "d_in": (lambda v: _int(v, 1, 65_536), "an integer from 1 to 65536"),
    "dict_size": (lambda v: _int(v, 1, BOUNDS["dict_size"][0]), f"an integer from 1 to {BOUNDS['dict_size'][0]}"),
    "k": (lambda v: _int(v, 1, BOUNDS["k"][0]), f"an integer from 1 to {BOUNDS['k'][0]}"),
    "norm_factor": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
                    "a positive finite number"),
    "site": (lambda v: isinstance(v, str), "a site name"),
    "layer": (lambda v: _int(v, 0, 10_000), "a layer number"),
    "head": (lambda v: v is None or _int(v, 0, 10_000), "a head number or null"),
    "model_fingerprint": (lambda v: isinstance(v, str), "a string"),
    "model_id": (lambda v: isinstance(v, str), "a string"),
    "store_digest": (lambda v: isinstance(v, str), "a string"),
    "training": (lambda v: isinstance(v, dict), "an object"),
    "meta": (lambda v: isinstance(v, dict), "an object"),
    "weights_sha256": (lambda v: isinstance(v, str) and len(v) == 64, "64 hex digits"),
}
