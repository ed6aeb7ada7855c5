"""Running statistics per site and layer: count, mean, M2 (for the variance) and per-class means.

Each chunk's statistics are computed in two passes in float64 (mean, then the
sum of squared deviations), and chunks — or whole processes — are combined
with the parallel Welford update of Chan, Golub and LeVeque::

    delta = mean_b - mean_a
    mean  = mean_a + delta * n_b / n
    M2    = M2_a + M2_b + delta**2 * n_a * n_b / n

Merging in a fixed order makes a resumed collection's statistics identical to
an uninterrupted one's; merging in a different order (other process counts)
agrees to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import InputError


@dataclass
class SiteStats:
    """Statistics of one site over rows for all layers: ``(L, D)`` float64 tensors."""

    count: int = 0
    mean: torch.Tensor | None = None
    m2: torch.Tensor | None = None
    class_count: dict[str, int] = field(default_factory=dict)  # key "concept=value"
    class_means: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def of(cls, x: torch.Tensor, labels: dict[str, torch.Tensor]) -> SiteStats:
        """Statistics of rows ``x`` ``(N, L, D)`` with binary labels ``{concept: (N,)}``."""
        return cls.of_layers([x[:, i] for i in range(x.shape[1])], labels)

    @classmethod
    def of_layers(cls, layers: list[torch.Tensor], labels: dict[str, torch.Tensor]) -> SiteStats:
        """Like :meth:`of` from one ``(N, D)`` tensor per layer (no stacked copy needed).

        Every layer goes through one float64 buffer and the results are written into
        tensors allocated up front: nothing is allocated per layer. Per-layer
        temporaries interleaved with small results fragment the heap, and resident
        memory then grows by a layer's float64 copy per layer (3-4x the chunk's own
        frames on random-medium).
        """
        n = int(layers[0].shape[0]) if layers else 0
        st = cls(count=n)
        if n == 0:
            return st
        width = layers[0][0].numel()
        f64 = dict(dtype=torch.float64, device=layers[0].device)
        totals, st.m2 = torch.empty(len(layers), width, **f64), torch.empty(len(layers), width, **f64)
        masks = {c: (lab.to(torch.long) == 1).to(**f64) for c, lab in labels.items()}
        pos = {c: torch.empty(len(layers), width, **f64) for c in masks}
        buf = torch.empty(n, width, **f64)
        for i, x in enumerate(layers):
            buf.copy_(x.reshape(n, -1))
            torch.sum(buf, 0, out=totals[i])
            for c, mask in masks.items():
                torch.mv(buf.t(), mask, out=pos[c][i])
            buf.sub_(totals[i] / n)
            torch.sum(buf.square_(), 0, out=st.m2[i])
        st.mean = totals / n
        for c, mask in masks.items():
            n_pos = int(mask.sum())
            for value, k, sums in ((1, n_pos, pos[c]), (0, n - n_pos, totals - pos[c])):
                key = f"{c}={value}"
                st.class_count[key] = k
                st.class_means[key] = sums / max(k, 1)
        return st

    def merge(self, other: SiteStats) -> SiteStats:
        """The statistics of both row sets together (Chan et al.'s parallel update)."""
        if other.count == 0:
            return self.copy()
        if self.count == 0:
            return other.copy()
        n = self.count + other.count
        delta = other.mean - self.mean
        out = SiteStats(count=n, mean=self.mean + delta * (other.count / n),
                        m2=self.m2 + other.m2 + delta.square() * (self.count * other.count / n))
        for key in sorted(set(self.class_count) | set(other.class_count)):
            na, nb = self.class_count.get(key, 0), other.class_count.get(key, 0)
            out.class_count[key] = na + nb
            if na == 0 or nb == 0:
                src = self if na else other
                out.class_means[key] = src.class_means[key].clone()
            else:
                ma, mb = self.class_means[key], other.class_means[key]
                out.class_means[key] = ma + (mb - ma) * (nb / (na + nb))
        return out

    def copy(self) -> SiteStats:
        return SiteStats(self.count, None if self.mean is None else self.mean.clone(),
                         None if self.m2 is None else self.m2.clone(), dict(self.class_count),
                         {k: v.clone() for k, v in self.class_means.items()})

    # ------------------------------------------------------------- results
    @property
    def var(self) -> torch.Tensor:
        """Population variance."""
        if self.m2 is None:
            raise InputError("no rows in these statistics")
        return self.m2 / max(self.count, 1)

    @property
    def std(self) -> torch.Tensor:
        return self.var.sqrt()

    def class_mean(self, concept: str, value: int) -> torch.Tensor:
        key = f"{concept}={value}"
        if self.class_count.get(key, 0) == 0:
            raise InputError(f"no rows with {key} in these statistics")
        return self.class_means[key]

    # ----------------------------------------------------------- (de)serialise
    def to_tensors(self) -> dict[str, torch.Tensor]:
        if self.mean is None:
            return {"count": torch.zeros(1, dtype=torch.int64)}
        out = {"count": torch.tensor([self.count], dtype=torch.int64), "mean": self.mean, "m2": self.m2}
        for k, v in self.class_means.items():
            out[f"class_mean/{k}"] = v
            out[f"class_count/{k}"] = torch.tensor([self.class_count[k]], dtype=torch.int64)
        return out

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor]) -> SiteStats:
        """Inverse of :meth:`to_tensors`; raises ``KeyError``/``ValueError`` on a malformed dict."""
        st = cls(count=int(t["count"][0]))
        if st.count == 0:
            return st
        st.mean, st.m2 = t["mean"], t["m2"]
        if st.mean.shape != st.m2.shape:
            raise InputError(f"mean {tuple(st.mean.shape)} and m2 {tuple(st.m2.shape)} differ in shape")
        for k, v in t.items():
            if k.startswith("class_mean/"):
                key = k.split("/", 1)[1]
                if v.shape != st.mean.shape:
                    raise InputError(f"class mean {key} has shape {tuple(v.shape)}, not {tuple(st.mean.shape)}")
                st.class_means[key] = v
                st.class_count[key] = int(t[f"class_count/{key}"][0])
        return st
