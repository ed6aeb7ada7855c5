"""What this package may delete: folders it wrote itself, recognised by the marker it writes at creation.

Every folder the package creates for a store, a steerer, an SAE or an organism
checkpoint gets :data:`MARKER`, a small JSON file naming the kind of folder.
Replacing such a folder (``overwrite=True``, retraining the organism into the
same place) removes it only when

* the marker is there and names that kind, and
* every file under the folder is one that kind writes (its ``patterns``), or a
  temporary one of those left by a crash; no links, nothing else.

Anything else (a ``notes.txt``, a folder without the marker, a store where a
steerer is expected) is refused with :class:`StoreOverwriteError`, which names
what is in the way, and nothing is deleted. Nothing is ever written inside the
installed package (:func:`refuse_package_destination`): its shipped files (the
organism checkpoint) are read-only.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InstalledPackageError, StoreOverwriteError
from .layout import umask

MARKER = "written_by_musicinterp.json"
PACKAGE = Path(__file__).resolve().parents[1]  # the installed musicinterp package


def refuse_package_destination(path: Path, what: str = "output") -> None:
    """Raise :class:`InstalledPackageError` when ``path`` lies inside the installed package."""
    if Path(path).resolve().is_relative_to(PACKAGE):
        raise InstalledPackageError(f"refusing to write {what} to {path}: it is inside the installed musicinterp "
                                    f"package ({PACKAGE}), whose files are read-only; choose a folder elsewhere")
_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{6,}\.tmp")  # atomic writes' temporaries (tempfile.mkstemp)


def write_marker(folder: Path, kind: str) -> None:
    """Create ``folder`` if needed and mark it as holding a ``kind`` (a marker already there is kept); refuses a
    folder inside the installed package."""
    from .._version import __version__
    from .layout import atomic_write_json

    refuse_package_destination(folder, f"a {kind}")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / MARKER).is_file():
        atomic_write_json(folder / MARKER, {"kind": kind, "written_by": "musicinterp", "package_version": __version__})


def marker_kind(folder: Path) -> str | None:
    """The kind a folder's marker names (``None``: no readable marker)."""
    try:
        info = json.loads((folder / MARKER).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return info.get("kind") if isinstance(info, dict) and isinstance(info.get("kind"), str) else None


def foreign_files(folder: Path, patterns: Sequence[re.Pattern]) -> list[str]:
    """Paths under ``folder`` (relative, POSIX) that no pattern accounts for; links count as foreign."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out.append(rel)
        elif path.is_file() and rel != MARKER and not _ours(rel, patterns):
            out.append(rel)
        elif not path.is_dir() and not path.is_file():  # sockets, fifos, devices
            out.append(rel)
    return out


def _ours(rel: str, patterns: Sequence[re.Pattern]) -> bool:
    temp = _TEMP.fullmatch(rel.rsplit("/", 1)[-1])
    if temp is not None:  # ".<name>.<random>.tmp" next to where <name> would be
        rel = rel[: len(rel) - len(rel.rsplit("/", 1)[-1])] + temp["name"]
    return any(p.fullmatch(rel) for p in patterns)


def check_removable(folder: Path, kind: str, patterns: Sequence[re.Pattern]) -> None:
    """Raise :class:`StoreOverwriteError` unless ``folder`` is wholly a ``kind`` this package wrote."""
    if folder.is_symlink() or not folder.is_dir():
        raise StoreOverwriteError(f"refusing to overwrite {folder}: it is not a folder")
    found = marker_kind(folder)
    if found is None:
        raise StoreOverwriteError(
            f"refusing to overwrite {folder}: it has no {MARKER}, so it was not written by musicinterp (or by a "
            f"version before markers); only folders musicinterp wrote are deleted. Choose another folder, or "
            f"empty this one yourself")
    if found != kind:
        raise StoreOverwriteError(f"refusing to overwrite {folder}: its {MARKER} says it holds a {found}, "
                                  f"not a {kind}")
    foreign = foreign_files(folder, patterns)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise StoreOverwriteError(f"refusing to overwrite {folder}: besides the {kind} it holds files musicinterp "
                                  f"did not write ({shown}); nothing was deleted. Move them out first")


def remove(folder: Path, kind: str, patterns: Sequence[re.Pattern]) -> None:
    """Delete ``folder`` after :func:`check_removable` (which raises, deleting nothing, when it is not ours)."""
    check_removable(folder, kind, patterns)
    shutil.rmtree(folder)


def publish(folder: Path, kind: str, patterns: Sequence[re.Pattern], write: Callable[[Path], None]) -> Path:
    """Write a folder of ``kind`` atomically: ``write(tmp)`` fills a temporary sibling, which gets the marker
    and ordinary permissions (``0o777``/``0o666`` less the umask; ``mkdtemp``'s ``0o700`` would hide it from the
    group) and is renamed onto ``folder``. An empty ``folder`` or one of ours (:func:`remove`) is replaced; on
    any error the temporary folder is deleted and ``folder`` is left as it was."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=folder.parent))
    try:
        write(tmp)
        write_marker(tmp, kind)
        mask = umask()
        tmp.chmod(0o777 & ~mask)
        for f in tmp.iterdir():
            f.chmod(0o666 & ~mask)
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
        elif folder.exists():
            remove(folder, kind, patterns)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
