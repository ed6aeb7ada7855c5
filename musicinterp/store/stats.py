"""Running statistics per site and layer: count, mean, variance and per-class means.

Partial sums are kept per chunk in float64 and merged in chunk order, so a
resumed collection produces exactly the statistics of an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SiteStats:
    """Sums over rows of one site for all layers: ``(L, D)`` tensors, float64."""

    count: int = 0
    total: torch.Tensor | None = None
    total_sq: torch.Tensor | None = None
    class_total: dict[str, torch.Tensor] = field(default_factory=dict)  # key "concept=value" -> (L, D)
    class_count: dict[str, int] = field(default_factory=dict)

    def update(self, x: torch.Tensor, labels: dict[str, torch.Tensor]) -> None:
        """Add rows ``x`` ``(N, L, D)`` with their binary labels ``{concept: (N,)}``."""
        n = x.shape[0]
        s = x.sum(0, dtype=torch.float64)  # reduced in float64 without a float64 copy of x
        sq = x.square().sum(0, dtype=torch.float64)
        self.total = s if self.total is None else self.total + s
        self.total_sq = sq if self.total_sq is None else self.total_sq + sq
        self.count += n
        for concept, lab in labels.items():
            sel = lab == 1
            pos = x[sel].sum(0, dtype=torch.float64)  # the other class is the total minus this one
            n_pos = int(sel.sum())
            for value, part, count in ((1, pos, n_pos), (0, s - pos, n - n_pos)):
                key = f"{concept}={value}"
                self.class_total[key] = self.class_total.get(key, torch.zeros_like(part)) + part
                self.class_count[key] = self.class_count.get(key, 0) + count

    def merge(self, other: SiteStats) -> SiteStats:
        out = SiteStats()
        for st in (self, other):
            if st.total is None:
                continue
            out.total = st.total.clone() if out.total is None else out.total + st.total
            out.total_sq = st.total_sq.clone() if out.total_sq is None else out.total_sq + st.total_sq
            out.count += st.count
            for k, v in st.class_total.items():
                out.class_total[k] = out.class_total.get(k, torch.zeros_like(v)) + v
                out.class_count[k] = out.class_count.get(k, 0) + st.class_count[k]
        return out

    # ------------------------------------------------------------- results
    @property
    def mean(self) -> torch.Tensor:
        return self.total / max(self.count, 1)

    @property
    def var(self) -> torch.Tensor:
        """Population variance (clamped at 0)."""
        return (self.total_sq / max(self.count, 1) - self.mean**2).clamp_min(0)

    def class_mean(self, concept: str, value: int) -> torch.Tensor:
        key = f"{concept}={value}"
        if self.class_count.get(key, 0) == 0:
            raise ValueError(f"no rows with {key} in these statistics")
        return self.class_total[key] / self.class_count[key]

    # ----------------------------------------------------------- (de)serialise
    def to_tensors(self) -> dict[str, torch.Tensor]:
        if self.total is None:
            return {}
        out = {"count": torch.tensor([self.count], dtype=torch.int64), "total": self.total,
               "total_sq": self.total_sq}
        for k, v in self.class_total.items():
            out[f"class_total/{k}"] = v
            out[f"class_count/{k}"] = torch.tensor([self.class_count[k]], dtype=torch.int64)
        return out

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor]) -> SiteStats:
        st = cls()
        if not t:
            return st
        st.count, st.total, st.total_sq = int(t["count"][0]), t["total"], t["total_sq"]
        for k, v in t.items():
            if k.startswith("class_total/"):
                key = k.split("/", 1)[1]
                st.class_total[key] = v
                st.class_count[key] = int(t[f"class_count/{key}"][0])
        return st
