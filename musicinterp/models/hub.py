"""Finding real checkpoints offline (local folder or the Hugging Face cache), their errors, quiet logs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import snapshot_download
from transformers.utils import logging as hf_logging

from ..errors import MusicInterpError


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warning that MusicGen's pad id (2048) lies outside the 2048-code vocab.

    MusicGen uses id 2048 as its BOS/pad on purpose; the warning is noise.
    """
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


class CheckpointNotFoundError(FileNotFoundError, MusicInterpError):
    """A real MusicGen checkpoint is not on this machine."""


class CheckpointFileError(ValueError, MusicInterpError):
    """A checkpoint folder exists but one of its files is missing or damaged."""


def hub_cache() -> tuple[Path, str]:
    """The Hugging Face hub cache this process would use *now*, and which setting chose it.

    Read from the environment at call time (``HF_HUB_CACHE``, then ``HF_HOME``, then
    ``XDG_CACHE_HOME``), so a notebook that sets ``HF_HOME`` after import is honoured.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser(), "HF_HUB_CACHE"
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub", "HF_HOME"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()
    return base / "huggingface" / "hub", "XDG_CACHE_HOME" if xdg else "default"


def places_looked(spec: str) -> list[str]:
    """Every place :func:`locate_checkpoint` looks for ``spec``, in words (``musicinterp info`` prints them)."""
    cache, chosen_by = hub_cache()
    repo_dir = cache / ("models--" + spec.replace("/", "--"))
    return [
        f"local folder {Path(spec).expanduser().resolve()} ({'exists' if Path(spec).expanduser().exists() else 'absent'})",
        f"Hugging Face cache {repo_dir} (cache chosen by {chosen_by}; "
        f"{'present' if repo_dir.exists() else 'absent'})",
        f"HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '(unset)')} (musicinterp never downloads either way)",
    ]


def fetch_command(spec: str) -> str:
    """The command that puts ``spec`` into the cache on a machine with network access."""
    return f"hf download {spec}"


def locate_checkpoint(spec: str) -> Path:
    """The folder holding ``spec``'s files: a local folder, or its snapshot in the hub cache. Never downloads."""
    local = Path(spec).expanduser()
    if local.is_dir():
        return local
    try:
        cache, _ = hub_cache()
        folder = Path(snapshot_download(spec, cache_dir=str(cache), local_files_only=True))
    except (OSError, ValueError) as err:
        looked = "\n  - ".join(places_looked(spec))
        raise CheckpointNotFoundError(
            f"MusicGen checkpoint {spec!r} was not found locally. Looked in:\n  - {looked}\n"
            f"musicinterp never downloads weights: on a machine with network access run "
            f"`{fetch_command(spec)}`, copy that machine's hub cache folder here and set HF_HOME to its parent "
            f"(or HF_HUB_CACHE to the folder itself); or save the model with `save_pretrained(folder)` and pass "
            f"that folder."
        ) from err
    return folder
