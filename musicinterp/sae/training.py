"""``train``: an SAE on one site and layer of a store, streamed, checkpointed and resumable.

Frames come from :meth:`ActivationStore.stream` (sequential shard reads through
a shuffle buffer; the layer is never held in memory). They are divided by a
normalisation factor computed from the store's running statistics (so that
E||x||^2 = d, as dictionary_learning does, without eating batches to estimate
it) and the trainer gets those normalised copies. Every ``checkpoint_every``
steps the trainer state goes to one atomic file; a later call with the same
settings resumes from it and ends with exactly the weights of an
uninterrupted run (on CPU).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .._version import __version__
from ..store.reader import ActivationStore
from .architectures import make_trainer
from .artifact import INFO, SAE, read_info
from .artifact import load as load_sae
from .checkpoint import CHECKPOINT, load_checkpoint, read_checkpoint_meta, save_checkpoint
from .config import TrainConfig
from .errors import SAEConfigError, SAETrainingError


@dataclass(frozen=True)
class TrainRun:
    """Where a training run keeps its output and how it reports: not part of the SAE's settings."""

    out: str | Path | None = None
    checkpoint_every: int | None = None
    resume: bool = True
    progress: bool = True
    log_every: int = 10


def train(store: ActivationStore, site: str | None = None, *, layer: int | None = None,
          config: TrainConfig | None = None, out: str | Path | None = None, checkpoint_every: int | None = None,
          resume: bool = True, progress: bool = True, log_every: int = 10, **settings: Any) -> SAE:
    """Train an SAE on ``site`` (default ``"resid"``) at ``layer`` of ``store``.

    The SAE's settings are a :class:`TrainConfig` (``config``), or its fields as
    keywords (``arch`` ``"topk"``/``"batch_topk"``, ``dict_size``, ``k``,
    ``steps``, ``lr``, ``batch_size``, ``seed``, ``shuffle_buffer``, ``device``,
    ``head`` for one head of a per-head site, and the scaled schedule fields
    ``warmup_steps``, ``decay_start``, ``threshold_start_step``,
    ``threshold_beta``, ``dead_tokens``, ``auxk_alpha``); keywords override
    ``config``. With ``out`` the artifact is saved there (and checkpoints, every
    ``checkpoint_every`` steps); ``resume`` continues an interrupted run in ``out``.
    """
    cfg = _train_config(config, site, layer, settings)
    run = TrainRun(out, checkpoint_every, resume, progress, log_every)
    d_in = check_source(store, cfg.site, cfg.layer, cfg.head)
    if run.checkpoint_every is not None and (run.out is None or run.checkpoint_every < 1):
        raise SAEConfigError("checkpoint_every needs an out= folder and a positive number of steps")
    out = Path(run.out) if run.out is not None else None
    digest = store_digest(store)
    if out is not None and (out / INFO).is_file():
        done = _finished(out, cfg, digest, run.resume)
        if done is not None:
            return done
    nf = norm_factor(store, cfg.site, cfg.layer, cfg.head)
    trainer = make_trainer(cfg, d_in, store.meta["model_id"])
    history = _train_steps(store, trainer, cfg, nf, run, {"config": cfg.to_dict(), "store_digest": digest,
                                                           "norm_factor": nf})
    if cfg.arch == "batch_topk" and float(trainer.ae.threshold) < 0:
        raise SAETrainingError(f"BatchTopK run ended with no inference threshold (still -1): "
                               f"threshold_start_step={cfg.threshold_start_step} of {cfg.steps} steps never "
                               f"saw an active latent")
    sae = SAE(ae=trainer.ae.eval(), arch=cfg.arch, norm_factor=nf, site=cfg.site, layer=cfg.layer, head=cfg.head,
              model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
              store_digest=digest, training=cfg.to_dict(),
              meta={"store": str(store.root), "concept_set": store.meta.get("concept_set"), "history": history,
                    "dictionary_learning": _dl_version(), "package_version": __version__})
    if out is not None:
        sae.save(out)
        (out / CHECKPOINT).unlink(missing_ok=True)
    return sae


def _train_config(config: TrainConfig | None, site: str | None, layer: int | None,
                  settings: dict[str, Any]) -> TrainConfig:
    """``config`` (or the defaults) with ``site``, ``layer`` and the keyword ``settings`` applied, resolved."""
    allowed = {f.name for f in fields(TrainConfig)} - {"site", "layer"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise SAEConfigError(f"unknown training settings: {', '.join(unknown)}; settings are "
                             f"{', '.join(sorted(allowed))}")
    if layer is None and config is None:
        raise SAEConfigError("give layer= (the store layer to train on) or a TrainConfig with one")
    base = config or TrainConfig()
    cfg = replace(base, site=site if site is not None else base.site, layer=layer if layer is not None else base.layer,
                  **settings).resolved()
    if cfg.k > cfg.dict_size:
        raise SAEConfigError(f"k={cfg.k} is larger than dict_size={cfg.dict_size}")
    return cfg


def _train_steps(store: ActivationStore, trainer: Any, cfg: TrainConfig, nf: float, run: TrainRun,
                 record: dict[str, Any]) -> list[dict[str, Any]]:
    """Run (or resume) the trainer to ``cfg.steps``, checkpointing; returns the logged history."""
    start, history = 0, []
    ckpt = Path(run.out) / CHECKPOINT if run.out is not None else None
    if ckpt is not None and ckpt.is_file():
        if run.resume:
            start, history = _resume(ckpt, trainer, record)
        else:
            ckpt.unlink()
    batches = _Prefetch(store.stream(cfg.site, cfg.layer, cfg.batch_size, shuffle_buffer=cfg.shuffle_buffer,
                                     seed=cfg.seed, head=cfg.head, epochs=None))
    for _ in range(start):  # replay the stream up to the checkpoint (reads only, no training)
        next(batches)
    bar = tqdm(total=cfg.steps, initial=start, desc=f"SAE {cfg.arch} {cfg.site} L{cfg.layer}",
               disable=not run.progress)
    try:
        for step in range(start, cfg.steps):
            x = next(batches).to(cfg.device) / nf  # a normalised copy: the trainer may edit it in place
            loss = trainer.update(step, x)
            if (step + 1) % run.log_every == 0 or step + 1 == cfg.steps:
                entry = {"step": step + 1, "loss": loss, **batch_metrics(trainer, x, cfg.arch)}
                history.append(entry)
                bar.set_postfix(fve=f"{entry['fve']:.3f}", l0=f"{entry['l0']:.1f}", dead=f"{entry['dead']:.2f}")
            bar.update(1)
            if ckpt is not None and run.checkpoint_every and (step + 1) % run.checkpoint_every == 0 \
                    and step + 1 < cfg.steps:
                save_checkpoint(ckpt, trainer, step + 1, {**record, "history": history})
    finally:
        bar.close()
        batches.close()
    return history


def check_source(store: ActivationStore, site: str, layer: int, head: int | None) -> int:
    """The input width for ``site``/``layer``/``head`` of ``store``, or a clear error naming what is wrong."""
    if site not in store.sites:
        raise SAEConfigError(f"store {store.root} has no site {site!r}; it holds {', '.join(store.sites)}")
    if not isinstance(layer, int) or not 0 <= layer < store.n_layers:
        raise SAEConfigError(f"layer {layer!r} is out of range: store {store.root} has layers 0..{store.n_layers - 1}")
    if not store.meta.get("frames_stored", True):
        raise SAEConfigError(f"store {store.root} was collected with frames='pooled' and holds no frames to train "
                             f"on; collect again with frames='valid' (or 'all')")
    shape = store.site_shape(site)
    if head is not None:
        if len(shape) != 2:
            raise SAEConfigError(f"head= applies to per-head sites (attn_z, cross_z), not {site!r}")
        if not 0 <= head < shape[0]:
            raise SAEConfigError(f"head {head} is out of range: {site} has heads 0..{shape[0] - 1}")
        return int(shape[1])
    return int(math.prod(shape))


def norm_factor(store: ActivationStore, site: str, layer: int, head: int | None = None) -> float:
    """sqrt(E||x||^2 / d) from the store's running statistics: dividing by it makes E||x||^2 = d."""
    st = store.stats(site)
    sq = (st.var[layer] + st.mean[layer].square()).double()  # E[x_d^2] per dimension
    if head is not None:
        hd = store.site_shape(site)[1]
        sq = sq[head * hd:(head + 1) * hd]
    mean_sq = float(sq.sum())
    if not mean_sq > 0:
        raise SAEConfigError(f"{site} layer {layer} of store {store.root} is all zeros; nothing to train on")
    return math.sqrt(mean_sq / sq.numel())


def store_digest(store: ActivationStore) -> str:
    """Identifies the store's content: the digest of its file list (names, sizes, SHA-256)."""
    files = json.dumps(store.meta.get("files", {}), sort_keys=True)
    return hashlib.sha256((store.meta["model_fingerprint"] + files).encode()).hexdigest()[:16]


@torch.no_grad()
def batch_metrics(trainer: Any, x: torch.Tensor, arch: str) -> dict[str, float]:
    """FVE, L0 and dead fraction of the current dictionary on one (normalised) batch."""
    ae = trainer.ae
    if arch == "topk":
        f = ae.encode(x)
    else:  # BatchTopK: its inference threshold once it exists, the training batch top-k before
        f = ae.encode(x, use_threshold=float(ae.threshold) >= 0)
    x_hat = ae.decode(f)
    sse = (x - x_hat).pow(2).sum()
    sst = (x - x.mean(0)).pow(2).sum()
    dead = (trainer.num_tokens_since_fired >= trainer.dead_feature_threshold).float().mean()
    return {"fve": float(1 - sse / sst), "l0": float((f != 0).sum(-1).float().mean()), "dead": float(dead)}


def _finished(out: Path, cfg: TrainConfig, digest: str, resume: bool) -> SAE | None:
    """A complete artifact in ``out``: return it when it is this run, else say what differs."""
    info = read_info(out)
    same = info["training"] == cfg.to_dict() and info["store_digest"] == digest
    if same and resume:
        return load_sae(out)
    if resume:
        diff = sorted(k for k in cfg.to_dict() if info["training"].get(k) != cfg.to_dict()[k])
        what = f"settings {', '.join(diff)}" if diff else "a different store"
        raise SAEConfigError(f"{out} holds an SAE trained with {what}; pass resume=False to replace it, or use "
                             f"another folder")
    return None


def _resume(ckpt: Path, trainer: Any, record: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    meta = read_checkpoint_meta(ckpt)
    if meta.get("config") != record["config"] or meta.get("store_digest") != record["store_digest"]:
        old = meta.get("config") or {}
        diff = sorted(k for k in record["config"] if old.get(k) != record["config"][k])
        what = f"settings {', '.join(diff)}" if diff else "a different store"
        raise SAEConfigError(f"checkpoint {ckpt} is from a run with {what}; pass resume=False to start over")
    meta = load_checkpoint(ckpt, trainer)
    return int(meta["step"]), list(meta.get("history", []))


class _Prefetch:
    """Runs a batch iterator one batch ahead on a background thread (reads overlap training)."""

    def __init__(self, source: Iterator[torch.Tensor], depth: int = 2) -> None:
        import queue
        import threading

        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
            self._put(StopIteration())
        except BaseException as err:  # handed to the consumer
            self._put(err)

    def __iter__(self) -> _Prefetch:
        return self

    def __next__(self) -> torch.Tensor:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _dl_version() -> str:
    try:
        from importlib.metadata import version

        return version("dictionary_learning")
    except Exception:
        return "unknown"


