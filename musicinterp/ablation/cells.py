"""Sweep cells: what each cell edits, and the named axes that index them.

A :class:`Target` addresses one site at one layer, optionally narrowed to some
heads and some decoder positions. The pseudo-site ``"layer"`` is a whole decoder
layer (its output replaced, e.g. by its input for ``skip``). A :class:`Cell` is
one point of a sweep: its index along each axis and the targets it edits together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models.musicgen import MusicGen
from ..models.sites import get_site
from .inputs import AblationInputError

LAYER = "layer"  # pseudo-site: a whole decoder layer
AXES = ("layer", "head", "frame", "window", "set")
# order inside one decoder layer: the layer input is read before any site of that layer
_ORDER = {"layer_in": -1, "attn_z": 0, "cross_z": 1, "mlp_out": 2, "resid": 3, LAYER: 3}


@dataclass(frozen=True)
class Target:
    """One site at one layer; ``heads`` / ``positions`` narrow it (``None`` = all)."""

    layer: int
    site: str
    heads: tuple[int, ...] | None = None
    positions: tuple[int, ...] | None = None

    @property
    def write_site(self) -> str:
        """The site actually written: a whole-layer target writes the layer output (``resid``)."""
        return "resid" if self.site == LAYER else self.site


@dataclass(frozen=True)
class Cell:
    """One sweep cell: its grid index and the targets it edits together."""

    index: tuple[int, ...]
    targets: tuple[Target, ...]

    @property
    def first_layer(self) -> int:
        return min(t.layer for t in self.targets)


def execution_key(layer: int, site: str) -> tuple[int, int]:
    """Sort key for (layer, site) pairs, including the layer input and whole-layer targets."""
    return (layer, _ORDER[site])


def check_site(model: MusicGen, site: str) -> None:
    if site == LAYER:
        return
    try:
        get_site(site)
    except ValueError as err:
        raise AblationInputError(f"site: {err}") from None
    if site == "cross_z" and not model.has_cross_attention:
        raise AblationInputError(f"site: model {model.name!r} has no cross-attention, so no cross_z")


def check_heads(model: MusicGen, heads: Sequence[int], what: str = "heads") -> tuple[int, ...]:
    out = tuple(int(h) for h in heads)
    bad = [h for h in out if not 0 <= h < model.n_heads]
    if bad:
        raise AblationInputError(f"{what}: head index {bad[0]} out of range for a model with {model.n_heads} heads "
                                 f"(0..{model.n_heads - 1})")
    return out


def check_layers(model: MusicGen, layers: Sequence[int], what: str = "layers") -> tuple[int, ...]:
    out = tuple(int(x) for x in layers)
    bad = [x for x in out if not 0 <= x < model.n_layers]
    if bad:
        raise AblationInputError(f"{what}: layer {bad[0]} out of range for a {model.n_layers}-layer model "
                                 f"(0..{model.n_layers - 1})")
    return out


@dataclass
class Grid:
    """Named axes with their tick labels, and the cells in row-major order."""

    axes: tuple[str, ...]
    labels: dict[str, list]
    cells: list[Cell]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.labels[a]) for a in self.axes)


def build_grid(model: MusicGen, site: str, over: Sequence[str], *, n_positions: int, window: int = 1,
               frame_bin: int = 1, layers: Sequence[int] | None = None) -> Grid:
    """Cells for ``over`` = ``("layer",)``, ``("layer", "head")``, ``("layer", "frame")`` or the same with
    ``"window"`` (sliding windows of ``window`` consecutive layers) in place of ``"layer"``."""
    over = (over,) if isinstance(over, str) else tuple(over)
    check_site(model, site)
    unknown = [a for a in over if a not in AXES[:4]]
    if unknown or not over or over[0] not in ("layer", "window") or len(over) > 2 or len(set(over)) != len(over):
        raise AblationInputError(f"over must be ('layer',), ('layer', 'head'), ('layer', 'frame') or the same "
                                 f"with 'window'; got {over!r}")
    if over[0] == "window" or window > 1:
        over = ("window",) + over[1:]
    if window < 1 or window > model.n_layers:
        raise AblationInputError(f"window must be 1..{model.n_layers}, got {window}")
    per_head = site not in (LAYER,) and get_site(site).per_head
    if "head" in over and not per_head:
        raise AblationInputError(f"over: a 'head' axis needs a per-head site (attn_z, cross_z), not site={site!r}")
    starts = check_layers(model, layers if layers is not None else range(model.n_layers - window + 1), "layers")
    starts = tuple(s for s in starts if s + window <= model.n_layers)
    first = [list(range(s, s + window)) for s in starts]
    layer_labels = list(starts) if window == 1 else [f"{s}-{s + window - 1}" for s in starts]
    labels: dict[str, list] = {over[0]: layer_labels}
    cells: list[Cell] = []
    if len(over) == 1:
        for i, ls in enumerate(first):
            cells.append(Cell((i,), tuple(Target(x, site) for x in ls)))
    elif over[1] == "head":
        labels["head"] = list(range(model.n_heads))
        for i, ls in enumerate(first):
            for h in range(model.n_heads):
                cells.append(Cell((i, h), tuple(Target(x, site, heads=(h,)) for x in ls)))
    else:
        if frame_bin < 1:
            raise AblationInputError(f"frame_bin must be >= 1, got {frame_bin}")
        bins = [tuple(range(p, min(p + frame_bin, n_positions))) for p in range(0, n_positions, frame_bin)]
        labels["frame"] = [b[0] for b in bins]
        for i, ls in enumerate(first):
            for j, pos in enumerate(bins):
                cells.append(Cell((i, j), tuple(Target(x, site, positions=pos) for x in ls)))
    return Grid(over, labels, cells)


def set_grid(model: MusicGen, site: str, sets: Sequence[Sequence], names: Sequence[str] | None = None) -> Grid:
    """One cell per set of components edited together: ``(layer, head)`` pairs for head sites, layers otherwise."""
    check_site(model, site)
    per_head = site != LAYER and get_site(site).per_head
    cells = []
    for i, members in enumerate(sets):
        if len(members) == 0:
            raise AblationInputError(f"sets: set {i} is empty")
        targets = []
        for m in members:
            if per_head:
                if not isinstance(m, (tuple, list)) or len(m) != 2:
                    raise AblationInputError(f"sets: members of a {site} set are (layer, head) pairs; got {m!r}")
                layer = check_layers(model, [m[0]], "sets")[0]
                targets.append(Target(layer, site, heads=check_heads(model, [m[1]], "sets")))
            else:
                targets.append(Target(check_layers(model, [m], "sets")[0], site))
        cells.append(Cell((i,), tuple(targets)))
    labels = list(names) if names is not None else [_set_name(s) for s in sets]
    return Grid(("set",), {"set": labels}, cells)


def _set_name(members: Sequence) -> str:
    return " ".join(f"L{m[0]}H{m[1]}" if isinstance(m, (tuple, list)) else f"L{m}" for m in members)


def all_at_once(grid: Grid) -> Cell:
    """A cell editing every target of the grid together (the fully-ablated / fully-patched reference)."""
    merged: dict[tuple[int, str, tuple | None], set] = {}
    for cell in grid.cells:
        for t in cell.targets:
            key = (t.layer, t.site, t.positions)
            merged.setdefault(key, set()).update(t.heads or (-1,))
    targets = []
    for (layer, site, pos), heads in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        targets.append(Target(layer, site, None if -1 in heads else tuple(sorted(heads)), pos))
    return Cell((), tuple(targets))
