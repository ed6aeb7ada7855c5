"""The Steerer protocol: a fitted, saveable artifact that becomes interventions at generation time.

Every method fits from an :class:`ActivationStore` (no model run), records the
model fingerprint, its typed config (``config_class``, a
:class:`~musicinterp.steering.configs.SteererConfig` whose ``strength`` field is
the strength knob) and the package version, and saves as safetensors + JSON. A
subclass says what its strength means (``strength_name``), which
:class:`ApplySpec` fields it honours (``spec_fields``), and builds its edits in
:meth:`build`; everything else (model check, spec merge, strength, sign,
schedule, monitor, log, the ``apply`` context manager, save/load) lives here."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ..engine.interventions import Intervention, StepContext
from ..errors import InputError
from ..models.musicgen import MusicGen
from ..store.errors import StoreModelMismatchError
from .artifact import SteererFileError, load_artifact, save_artifact
from .configs import SteererConfig, SteererConfigError, check_strength
from .keep import keep_report
from .monitor import Monitor
from .spec import ApplySpec, Constant, Schedule, SpecError, StrengthLog

Strength = float | torch.Tensor | None


@dataclass
class Prepared:
    """A steerer made ready for one generation: its edits, end-of-step hooks, log and monitor."""

    interventions: list[Intervention]  # monitor reads, then edits (for generation)
    edits: list[Intervention] = field(default_factory=list)  # the edits alone (for teacher-forced traces)
    callbacks: list[Any] = field(default_factory=list)
    log: StrengthLog = field(default_factory=StrengthLog)
    monitor: Monitor | None = None
    schedule: Schedule | None = None


class SteerRun:
    """One application of one steerer: merged spec, sign, and the strength per prompt row at each step."""

    def __init__(self, spec: ApplySpec, strength: float | torch.Tensor, sign: float, schedule: Schedule,
                 log: StrengthLog) -> None:
        self.spec = spec
        self.window = spec.window
        self.rows = spec.rows_or_default
        self.strength = strength
        self.sign = sign
        self.schedule = schedule
        self.log = log
        self._cache: dict[tuple, torch.Tensor] = {}

    def per_prompt(self, step: int, batch: int, device: torch.device | None = None) -> torch.Tensor:
        """Strength per prompt ``(batch,)`` at ``step`` (teacher-forced traces: step -1, no schedule)."""
        base = self.strength
        if isinstance(base, torch.Tensor):
            if base.shape != (batch,):
                raise InputError(f"a per-prompt strength needs shape ({batch},), got {tuple(base.shape)}")
            base = base.to(device)
        if step < 0:
            return torch.ones(batch, device=device) * base
        return base * self.schedule.factor(step, batch, device)

    def scale(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """Strength per decoder row of ``x``, shaped ``(rows, 1, ..., 1)`` to broadcast over the slice."""
        s = self.per_prompt(ctx.step, ctx.batch, x.device)
        rows = torch.arange(ctx.rows.start, ctx.rows.stop, device=x.device) % ctx.batch
        if ctx.step >= 0:
            self.log.record(ctx.step, s.mean() if isinstance(s, torch.Tensor) else s)
        return s[rows].to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))

    def cached(self, key: str, tensor: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``tensor`` on ``like``'s device and dtype, converted once per run."""
        k = (key, like.device, like.dtype)
        if k not in self._cache:
            self._cache[k] = tensor.to(like.device, like.dtype)
        return self._cache[k]


@dataclass
class Steerer:
    """Base of all methods: fit with :meth:`fit`, act with :meth:`apply` or ``mi.steer``."""

    concept: str
    site: str
    tensors: dict[str, torch.Tensor]
    config: SteererConfig  # a dict (an older artifact's) is read with ``config_class.from_dict``
    model_fingerprint: str
    model_id: str
    spec: ApplySpec = field(default_factory=ApplySpec)
    meta: dict[str, Any] = field(default_factory=dict)
    method: ClassVar[str] = "base"
    strength_name: ClassVar[str] = "strength"  # what the method calls its strength (alpha, lambda, s)
    config_class: ClassVar[type[SteererConfig] | None] = None
    spec_fields: ClassVar[frozenset[str]] = frozenset({"rows", "start", "stop", "every", "layers"})
    registry: ClassVar[dict[str, type[Steerer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.method != "base":
            Steerer.registry[cls.method] = cls

    def __post_init__(self) -> None:
        if isinstance(self.config, dict):
            config = dict(self.config)
            for key in getattr(self.config_class, "derived_keys", ()):
                if key in config:
                    self.meta.setdefault(key, config.pop(key))
            self.config = self.config_class.from_dict(config)
        elif self.config_class is not None and not isinstance(self.config, self.config_class):
            raise SteererConfigError(f"{type(self).__name__} needs a {self.config_class.__name__}, got "
                                     f"{type(self.config).__name__}")

    # ------------------------------------------------------------------ the protocol
    @classmethod
    def fit(cls, store: Any, concept: str, config: Any = None, spec: ApplySpec | None = None) -> Steerer:
        """Fit from an activation store (never runs the model)."""
        raise NotImplementedError(f"{cls.__name__} does not implement fit")

    @classmethod
    def fit_spec(cls, defaults: ApplySpec, spec: ApplySpec | None) -> ApplySpec:
        """The method's default spec with the fields ``spec`` sets replaced (never dropped wholesale)."""
        if spec is not None:
            cls._check_spec_fields(spec)
        return defaults.merge(spec)

    @classmethod
    def _check_spec_fields(cls, spec: ApplySpec) -> None:
        bad = [f for f in spec.set_fields() if f not in cls.spec_fields]
        if bad:
            raise SpecError(f"{cls.method} cannot honour ApplySpec.{bad[0]} (it honours: "
                            f"{', '.join(sorted(cls.spec_fields))})")

    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        """The edits for one generation; use ``run.scale(x, ctx)`` for the per-row strength."""
        raise NotImplementedError(f"{type(self).__name__} does not implement build")

    def default_schedule(self) -> Schedule:
        """The schedule used when none is given (SMITIN: its self-monitor)."""
        return Constant()

    @property
    def remove(self) -> bool:
        return bool(self.config.remove)

    @property
    def strength(self) -> float:
        """The default strength: the one :meth:`calibrate` found (``meta``), else ``config.strength``."""
        found = self.meta.get("calibrated_strength")
        return float(self.config.strength if found is None else found)

    keep_report = keep_report  # cosines of the steering direction with each kept direction, before and after

    def calibrate(self, model: MusicGen, task: Any, judge: Any, **kwargs: Any) -> Any:
        """The weakest strength reaching the target success within limits; becomes the default strength."""
        from .strength_finder import calibrate
        return calibrate(self, model, task, judge, **kwargs)

    def config_dict(self) -> dict[str, Any]:
        """The config as stored in ``steerer.json``."""
        return self.config.to_dict()

    def check_model(self, model: MusicGen) -> None:
        if model.fingerprint != self.model_fingerprint:
            raise StoreModelMismatchError(
                f"{self.method} steerer for {self.concept!r} was fitted on model {self.model_id!r} "
                f"(fingerprint {self.model_fingerprint}), not on {model.name!r} (fingerprint {model.fingerprint})")

    def merged_spec(self, spec: ApplySpec | None) -> ApplySpec:
        """The stored spec with ``spec``'s set fields replaced; refuses fields this method cannot honour."""
        if spec is not None:
            self._check_spec_fields(spec)
        return self.spec.merge(spec)

    def check_spec_on(self, model: MusicGen, spec: ApplySpec) -> None:
        """Refuse layers or heads the model does not have (they would silently edit nothing)."""
        for layer in spec.layers or ():
            if not 0 <= layer < model.n_layers:
                raise SpecError(f"{self.method}: ApplySpec.layers holds layer {layer}, but model {model.name!r} has "
                                f"{model.n_layers} layers (0..{model.n_layers - 1})")
        for layer, head in spec.heads or ():
            if not 0 <= layer < model.n_layers:
                raise SpecError(f"{self.method}: ApplySpec.heads holds layer {layer}, but model {model.name!r} has "
                                f"{model.n_layers} layers (0..{model.n_layers - 1})")
            if not 0 <= head < model.n_heads:
                raise SpecError(f"{self.method}: ApplySpec.heads holds head {head} (layer {layer}), but model "
                                f"{model.name!r} has {model.n_heads} heads per layer (0..{model.n_heads - 1})")

    def prepare(self, model: MusicGen, *, strength: Strength = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        """Interventions and hooks for one generation (the shared preamble of every method)."""
        self.check_model(model)
        merged = self.merged_spec(spec)
        self.check_spec_on(model, merged)
        value = self.strength if strength is None else strength
        check_strength(value)
        if isinstance(value, (list, tuple)):
            value = torch.tensor(value, dtype=torch.float32)
        schedule = schedule or self.default_schedule()
        schedule.start(0)  # a schedule (monitor) reused across generations starts clean
        log = StrengthLog()
        run = SteerRun(merged, value, -1.0 if self.remove else 1.0, schedule, log)
        edits = self.build(model, run)
        monitor = schedule if isinstance(schedule, Monitor) else None
        reads = schedule.interventions(run.window) if monitor is not None else []
        callbacks = [monitor.step_callback(run.window, run.per_prompt)] if monitor is not None else []
        # monitor reads come first: at each layer they see the state before this layer's own push
        return Prepared(interventions=reads + edits, edits=list(edits), callbacks=callbacks, log=log,
                        monitor=monitor, schedule=schedule)

    @contextmanager
    def apply(self, model: MusicGen, *, strength: Strength = None, spec: ApplySpec | None = None,
              schedule: Schedule | None = None) -> Iterator[Steerer]:
        """Inside the block every ``mi.generate`` on ``model`` is steered; leaving it removes every edit."""
        self.check_model(model)
        self.check_spec_on(model, self.merged_spec(spec))  # refuse a bad spec now, not at the first generation
        if strength is not None:
            check_strength(strength)
        entry = _Active(self, strength, spec, schedule)
        model.steering.append(entry)
        try:
            yield self
        finally:
            model.steering.remove(entry)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(concept={self.concept!r}, site={self.site!r}, "
                f"strength={self.config.strength} ({self.strength_name}), "
                f"{'remove' if self.remove else 'add'}, rows={self.spec.rows_or_default}, "
                f"every={self.spec.resolved()['every']}, model={self.model_id!r})")

    # ------------------------------------------------------------------ io
    def save(self, folder: Any) -> Any:
        """Write ``steerer.safetensors`` + ``steerer.json`` (atomically) into ``folder``."""
        return save_artifact(_OnDisk(self), folder)

    @staticmethod
    def load(folder: Any, model: MusicGen | None = None) -> Steerer:
        """Load any method's artifact; with ``model``, refuse one fitted on another model."""
        try:
            steerer = load_artifact(folder, Steerer.registry)
        except SteererConfigError as err:
            raise SteererFileError(f"{folder}/steerer.json: field 'config': {err}") from err
        if model is not None:
            steerer.check_model(model)
        return steerer


def clamp_with_warning(method: str, what: str, asked: int, available: int) -> int:
    """``asked`` reduced to ``available`` with a warning that says so (never silently)."""
    if asked > available:
        warnings.warn(f"{method}: {what}={asked} exceeds the {available} available on this model; using "
                      f"{available}", UserWarning, stacklevel=3)
        return available
    return asked


@dataclass(eq=False)
class _Active:
    """A steerer held active on a model by ``apply`` (generation prepares it afresh each time)."""

    steerer: Steerer
    strength: Strength
    spec: ApplySpec | None
    schedule: Schedule | None

    def prepare(self, model: MusicGen) -> Prepared:
        return self.steerer.prepare(model, strength=self.strength, spec=self.spec, schedule=self.schedule)

    @property
    def name(self) -> str:
        return f"{self.steerer.method}:{self.steerer.concept}"


class _OnDisk:
    """A steerer as the artifact writer sees it: every attribute, with the config as a JSON-ready dict."""

    def __init__(self, steerer: Steerer) -> None:
        self._steerer = steerer
        self.config = steerer.config_dict()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._steerer, name)
