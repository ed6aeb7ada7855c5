"""Training settings, with the trainer schedules scaled to the run.

dictionary_learning's defaults assume runs of tens of thousands of steps and
hundreds of millions of tokens: a 1000-step warm-up, a BatchTopK threshold that
starts at step 1000, and latents counted dead after 10M tokens unfired. On a
2000-step organism run the auxiliary loss would never run and the threshold
never start. :meth:`TrainConfig.resolved` scales each to the run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import SAEConfigError

ARCHS = ("topk", "batch_topk")
# Upper bounds on sizes a config may ask for, each with its reason (memory is allocated from them).
BOUNDS: dict[str, tuple[int, str]] = {
    "dict_size": (262_144, "the dictionary, its gradients and Adam's moments take 24 bytes x dict_size x d_in "
                           "(13 GB at d_in 2048)"),
    "batch_size": (65_536, "one batch of frames is held in float32 with its activations"),
    "shuffle_buffer": (4_194_304, "the shuffle pool holds this many frames of the store (8 GB of float16 at "
                                  "d_in 1024)"),
    "k": (4_096, "TopK keeps k latents of every frame"),
}


@dataclass
class TrainConfig:
    """What an SAE is trained on and how; every field is recorded in the artifact.

    Schedule fields left ``None`` are filled by :meth:`resolved`:
    ``warmup_steps`` = min(1000, steps // 10); ``decay_start`` = 80% of the run;
    ``threshold_start_step`` = min(1000, steps // 2) (BatchTopK's inference
    threshold, and TopK's recorded one); ``threshold_beta`` so the threshold's
    moving average spans a quarter of what remains; ``dead_tokens`` (a latent
    unfired for this many tokens is dead and gets the auxiliary loss) = the
    tokens of 10% of the run, at most dictionary_learning's 10M.
    """

    site: str = "resid"
    layer: int = 0
    head: int | None = None
    arch: str = "topk"
    dict_size: int = 1024
    k: int = 16
    steps: int = 2000
    lr: float | None = None  # None: dictionary_learning's 2e-4 / sqrt(dict_size / 2**14)
    batch_size: int = 1024
    seed: int = 0
    shuffle_buffer: int = 16384
    warmup_steps: int | None = None
    decay_start: int | None = None
    threshold_start_step: int | None = None
    threshold_beta: float | None = None
    dead_tokens: int | None = None
    auxk_alpha: float = 1 / 32
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise SAEConfigError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        for name in ("dict_size", "k", "batch_size"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool) \
                    or getattr(self, name) < 1:
                raise SAEConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name, (bound, why) in BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, int) and value > bound:
                raise SAEConfigError(f"{name}={value} is more than {bound}: {why}")
        if self.k > self.dict_size:
            raise SAEConfigError(f"k={self.k} is larger than dict_size={self.dict_size}: at most dict_size "
                                 f"latents can be active")
        if not isinstance(self.steps, int) or self.steps < 2:
            raise SAEConfigError(f"steps must be an integer >= 2, got {self.steps!r}")
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool)
                                        and math.isfinite(self.lr) and self.lr > 0):
            raise SAEConfigError(f"lr must be positive, got {self.lr!r}")
        if not isinstance(self.shuffle_buffer, int) or self.shuffle_buffer < 0:
            raise SAEConfigError(f"shuffle_buffer must be an integer >= 0, got {self.shuffle_buffer!r}")

    def resolved(self) -> TrainConfig:
        """A copy with every schedule field filled and checked against the run length."""
        out = TrainConfig(**asdict(self))
        s = self.steps
        if out.lr is None:
            out.lr = 2e-4 / (self.dict_size / 2**14) ** 0.5
        if out.warmup_steps is None:
            out.warmup_steps = min(1000, s // 10)
        if out.decay_start is None:
            out.decay_start = max(int(0.8 * s), out.warmup_steps + 1)
        if out.threshold_start_step is None:
            out.threshold_start_step = min(1000, s // 2)
        if out.threshold_beta is None:
            remaining = max(1, s - out.threshold_start_step)
            out.threshold_beta = min(0.999, max(0.0, 1 - 4 / remaining))
        if out.dead_tokens is None:
            out.dead_tokens = int(min(10_000_000, max(out.batch_size, s * out.batch_size // 10)))
        if not 0 <= out.warmup_steps < s:
            raise SAEConfigError(f"warmup_steps={out.warmup_steps} must be in [0, steps={s})")
        if not out.warmup_steps < out.decay_start < s:
            raise SAEConfigError(f"decay_start={out.decay_start} must be after warmup_steps={out.warmup_steps} "
                                 f"and before steps={s}")
        if not 0 <= out.threshold_start_step < s - 1:
            raise SAEConfigError(f"threshold_start_step={out.threshold_start_step} must be well before the end "
                                 f"(steps={s}); the inference threshold is estimated after it")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SAEConfigError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**d)
