"""Where a report's results came from: model, fingerprint, store digest, seeds, versions, command.

Every field is optional except the package versions and the command, which are
read from the running process (``sys.argv``) unless given. Nothing time-dependent
is recorded unless the caller passes it (``extra={"date": ...}``), so the same
inputs give the same report bytes.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ReportError
from .html import esc

PACKAGES = ("musicinterp", "torch", "transformers", "nnsight")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` ("not installed" when absent)."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def current_command() -> str:
    """The command line of this process, shell-quoted, with the program's base name."""
    argv = list(sys.argv) or ["python"]
    argv[0] = Path(argv[0]).name or argv[0]
    return shlex.join(argv)


def store_digest(store: Any) -> str:
    """SHA-256 over an activation store's file list and file digests (a store object or its folder)."""
    meta = getattr(store, "meta", None)
    if meta is None:
        path = Path(store) / "metadata.json"
        if not path.is_file():
            raise ReportError(f"store {store} has no metadata.json; is it an activation store?")
        meta = json.loads(path.read_text())
    files = {rel: info.get("sha256", "") for rel, info in sorted(meta.get("files", {}).items())}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


@dataclass
class Provenance:
    """The header of a report. Build with :meth:`collect` or from a ``provenance.json`` with :meth:`from_dict`."""

    model: str | None = None
    fingerprint: str | None = None
    store_digest: str | None = None
    seeds: list[int] | dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=package_versions)
    command: str = field(default_factory=current_command)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def collect(cls, *, model: Any = None, store: Any = None, seeds: Any = None, command: str | None = None,
                **extra: Any) -> Provenance:
        """Read what is known from a loaded model (name, fingerprint) and a store (its digest)."""
        name = getattr(model, "name", None) if model is not None else None
        fingerprint = getattr(model, "fingerprint", None) if model is not None else None
        if store is not None and name is None:
            meta = getattr(store, "meta", {})
            name, fingerprint = meta.get("model_id"), meta.get("model_fingerprint")
        return cls(model=name if name is None else str(name), fingerprint=fingerprint,
                   store_digest=store_digest(store) if store is not None else None, seeds=seeds,
                   command=command if command is not None else current_command(), extra=dict(extra))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "provenance") -> Provenance:
        if not isinstance(data, dict):
            raise ReportError(f"{source} must be a JSON object, got {type(data).__name__}")
        known = {k: data[k] for k in ("model", "fingerprint", "store_digest", "seeds", "versions", "command")
                 if k in data}
        extra = {k: v for k, v in data.items() if k not in known and k != "extra"}
        extra.update(data.get("extra", {}) or {})
        if "versions" in known and not isinstance(known["versions"], dict):
            raise ReportError(f"{source}: 'versions' must be an object of package -> version")
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """(label, text) pairs for the header, in a fixed order; empty fields left out."""
        out = [("model", self.model), ("fingerprint", self.fingerprint), ("store digest", self.store_digest),
               ("seeds", json.dumps(self.seeds) if self.seeds is not None else None)]
        out += [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in self.extra.items()]
        out.append(("versions", ", ".join(f"{k} {v}" for k, v in self.versions.items())))
        out.append(("command", self.command))
        return [(k, str(v)) for k, v in out if v not in (None, "")]

    def html(self) -> str:
        cells = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in self.rows())
        return f'<table class="mi-provenance">{cells}</table>'
