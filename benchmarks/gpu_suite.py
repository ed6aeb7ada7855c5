"""One GPU run of the benchmarks that matter on a device, within a wall-time budget.

Measures, with a warm-up before each timed run and ``torch.cuda.synchronize`` around it:

* per size (``--sizes``, random models at the real shapes, ``--dtype``, sdpa attention):
  - ``generate``: plain Hugging Face ``generate`` steps/s at batch 1, 8 and 32 with CFG (guidance 3),
    ``--frames`` decoder steps (500 = 10 s of audio). Like ``_common.plain_generate`` this includes
    MusicGen's built-in EnCodec decode of its output (``generate`` returns audio);
  - ``dtypes``: bfloat16 and float16 generation + a difference-in-means steerer: logits finite or not
    (the model's weights converted in place with ``model.hf.to(dtype)``, then restored);
  - ``steer``: traced (``mi.generate``, no steerer) and steered (ITI, SMITIN with its monitor,
    difference-in-means) generation time over plain generation at batch 8, ``--ratio-frames`` steps,
    steerers fitted from a small pooled store collected on the same model (as ``steer_overhead.py``);
  - ``collect``: clips/s of ``mi.collect`` (resid, valid frames; and pooled) vs a bare teacher-forced
    forward over the same batches, and the peak GPU memory of each (reset between);
* ``probe_bank``: the batched probe bank at 48 layers x 32 heads x 64 dims x 2000 clips on the device
  (``probe_fit.py``'s batched side; scikit-learn is not run);
* ``sweep``: a 16-setting strength sweep (4 methods x 4 strengths, n = 16) on the organism as rows of one
  generation vs one generation per setting (``sweep_batching.py``);
* ``patch``: a layer x head ``attn_z`` patching sweep on random-small float32, batched vs one trace per
  cell, the loop timed on a subset of cells and extrapolated (``patch_sweep.py``);
* ``sae``: TopK SAE training frames/s streamed from the store vs from one tensor in device memory
  (``sae_train.py``);
* ``matrix``: if time remains, the organism steering matrix on the continuation task (n = 128), one
  (concept, direction) pair at a time while the budget lasts, for ``--matrix-methods`` only.

Sections run breadth first: every size's generation and dtype check; the first size's steering and
collection; the global sections; the other sizes' steering and collection; the matrix. A section is not
started when the elapsed time plus its estimate would pass ``--budget-s``; it is listed under ``skipped``.
A section that fails records ``{"error": ...}`` and the suite goes on. The figures are written to
``<out>/gpu_suite.json`` after every section and printed as one JSON object on the last line.

    python benchmarks/gpu_suite.py [--device cuda] [--dtype bfloat16] [--sizes random-small,...] --out DIR
    python benchmarks/gpu_suite.py --device cpu --dtype float32 --sizes tiny --quick --out /tmp/gpu_dry
"""

from __future__ import annotations

import os
import time

T0 = time.perf_counter()
# Before torch loads libgomp: on a loaded CPU (the dry run), spinning OpenMP workers slow every op many times
# over (see sae_train.py); on a GPU run the CPU side is light and this changes nothing measurable.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, plain_generate, sync  # noqa: E402
from patch_sweep import _pair as patch_pair  # noqa: E402
from probe_fit import synthetic_view  # noqa: E402

import musicinterp as mi  # noqa: E402

CONCEPTS = ("drums", "tempo", "timbre", "bass")
SWEEPS = {"iti": [1.0, 2.0, 5.0, 10.0], "smitin": [10.0, 15.0, 20.0, 25.0], "diffmeans": [1.5, 2.0, 2.5, 3.0],
          "regression": [0.05, 0.1, 0.15, 0.2]}  # sweep_batching.py's grid (= the library's default sweeps)
REMOVE_SWEEPS = {"iti": [2.0, 5.0, 10.0, 20.0], "smitin": [15.0, 25.0, 40.0, 60.0],
                 "diffmeans": [2.0, 3.0, 4.0, 5.0], "regression": [0.1, 0.2, 0.3, 0.5]}  # steering_matrix.py's
# Seconds a section is expected to take on an H200 before anything is measured (random-small; the deeper
# sizes scale it by depth). Once a section has run on one size, its time scaled by depth is used instead.
DEFAULT_ESTIMATES = {"load": 15.0, "generate": 45.0, "dtypes": 15.0, "steer": 30.0, "collect": 15.0,
                     "probe_bank": 20.0, "sweep": 75.0, "patch": 40.0, "sae": 30.0, "matrix_pair": 45.0}
PER_SIZE = {"generate", "dtypes", "steer", "collect"}
QUICK_ESTIMATES = {k: 5.0 for k in DEFAULT_ESTIMATES}


def config(cls: type, strength: float | None = None, **kw: Any) -> Any:
    """``cls(**kw)`` with the strength under whichever field name this version uses (strength, alpha, lam)."""
    if strength is not None:
        names = {f.name for f in dataclasses.fields(cls)}
        kw[next((n for n in ("strength", "alpha", "lam") if n in names), "strength")] = strength
    return cls(**kw)


def organism_api(name: str) -> Callable[..., Any]:
    """``mi.organism.<name>`` where it lives now, else the older top-level ``mi.<name>``."""
    fn = getattr(getattr(mi, "organism", None), name, None)
    return fn if callable(fn) else getattr(mi, name)


def organism_tasks(model, concept: str, **kw: Any) -> list:
    """The organism's tasks for ``concept``: ``model.world.tasks`` where the model has one, else the older API."""
    world = getattr(model, "world", None)
    if world is not None and callable(getattr(world, "tasks", None)):
        return list(world.tasks(concept, **kw))
    return list(organism_api("organism_tasks")(concept, **kw))


def r4(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


class Timer:
    """Wall seconds of a block, synchronised with the device on both ends."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.s = 0.0

    def __enter__(self) -> Timer:
        sync(self.device)
        self.t = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        sync(self.device)
        self.s = time.perf_counter() - self.t


def cuda(device: str) -> bool:
    return device.startswith("cuda") and torch.cuda.is_available()


def reset_peak(device: str) -> float | None:
    """Reset the peak counter; return the memory allocated now (MiB)."""
    if not cuda(device):
        return None
    torch.cuda.reset_peak_memory_stats()
    return torch.cuda.memory_allocated() / 2**20


def peak_mib(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if cuda(device) else None


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def use_sdpa(model) -> dict[str, Any]:
    """Make every part of the HF model use sdpa attention where it is not already; say what each uses."""
    hf = model.hf
    before = {name: getattr(getattr(hf.config, name, None), "_attn_implementation", None)
              for name in ("text_encoder", "decoder", "audio_encoder")}
    before["top"] = getattr(hf.config, "_attn_implementation", None)
    changed = None
    if any(v not in (None, "sdpa") for k, v in before.items() if k in ("top", "decoder")):
        try:
            hf.set_attn_implementation("sdpa")
            changed = "set_attn_implementation('sdpa')"
        except Exception as err:  # noqa: BLE001 - older/newer transformers: fall back to the config field
            for cfg in (hf.config, getattr(hf.config, "decoder", None), getattr(hf.decoder, "config", None)):
                if cfg is not None:
                    cfg._attn_implementation = "sdpa"
            changed = f"config._attn_implementation = 'sdpa' ({type(err).__name__}: {err})"
    after = {name: getattr(getattr(hf.config, name, None), "_attn_implementation", None)
             for name in ("text_encoder", "decoder", "audio_encoder")}
    after["top"] = getattr(hf.config, "_attn_implementation", None)
    after["decoder_module"] = getattr(getattr(hf.decoder, "config", None), "_attn_implementation", None)
    return {"attn_implementation": after, "was": before, "changed": changed}


def text_ids(model, batch: int, length: int = 8, seed: int = 0) -> torch.Tensor:
    vocab = int(model.hf.config.text_encoder.vocab_size)
    return torch.randint(1, min(vocab, 1000), (batch, length), generator=torch.Generator().manual_seed(seed))


def random_set(model, n: int, frames: int, name: str = "bench", planted: bool = False) -> mi.ConceptSet:
    """``n`` random-code clips with one binary concept ``c`` (planted in codebook 1 when asked)."""
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (n, model.n_codebooks, frames), generator=g)
    labels = torch.tensor([i % 2 for i in range(n)])
    if planted:
        codes[labels == 1, 1, :] = 7
    ids = [f"c{i}" for i in range(n)]
    return mi.ConceptSet(name, {"c": labels}, ids, ids, codes=codes)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.device = args.device
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = self.out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.quick = args.quick
        self.estimates = QUICK_ESTIMATES if self.quick else DEFAULT_ESTIMATES
        self.measured: dict[str, tuple[float, int]] = {}  # section -> (seconds, layers of the size it ran on)
        self.models: dict[str, Any] = {}
        self.fig: dict[str, Any] = {"suite": "gpu_suite", "env": {}, "sizes": {}, "skipped": [], "errors": []}
        self.started = time.strftime("%Y-%m-%d %H:%M:%S")
        self.current: str | None = None
        signal.signal(signal.SIGTERM, self.terminated)

    # -- bookkeeping -------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - T0

    def estimate(self, kind: str, layers: int | None = None) -> float:
        if kind in self.measured and layers:
            seconds, at = self.measured[kind]
            return seconds * max(1.0, layers / max(at, 1)) * 1.2
        base = self.estimates[kind]
        return base * (max(1.0, layers / 24) if layers else 1.0)

    def write(self) -> None:
        self.fig["elapsed_s"] = round(self.elapsed(), 1)
        path = self.out / "gpu_suite.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.fig, default=str))
        os.replace(tmp, path)

    def terminated(self, signum: int, frame: Any) -> None:
        """SIGTERM (the run's time limit): record the section in flight, write and print the figures, exit."""
        self.fig["terminated"] = f"signal {signum} after {self.elapsed():.0f} s, during {self.current}"
        if self.current:
            self.fig["errors"].append(self.current)
        log(f"terminated during {self.current}")
        self.write()
        print(json.dumps(self.fig, default=str), flush=True)
        os._exit(124)

    def run(self, name: str, kind: str, fn: Callable[[], dict[str, Any]], where: dict[str, Any], key: str,
            layers: int | None = None) -> dict[str, Any] | None:
        """Run one section unless the budget forbids; record figures, an error, or the skip."""
        only = self.args.only
        if only and kind not in only and not (kind == "load" and only & PER_SIZE):
            return None
        est = self.estimate(kind, layers)
        if self.elapsed() + est > self.args.budget_s:
            self.fig["skipped"].append({"section": name, "elapsed_s": round(self.elapsed(), 1),
                                        "estimate_s": round(est, 1)})
            where[key] = {"skipped": f"budget: {self.elapsed():.0f} s elapsed + ~{est:.0f} s estimated > "
                                     f"{self.args.budget_s:.0f} s"}
            log(f"skip {name} (estimate {est:.0f} s)")
            self.write()
            return None
        log(f"start {name} (estimate {est:.0f} s)")
        self.current = name
        t0 = time.perf_counter()
        try:
            res = fn()
        except Exception as err:  # noqa: BLE001 - one failing section must not stop the suite
            tb = traceback.format_exc()
            print(tb, flush=True)
            res = {"error": f"{type(err).__name__}: {err}"[:2000], "traceback": tb[-3000:]}
            self.fig["errors"].append(name)
        seconds = time.perf_counter() - t0
        self.current = None
        res["section_s"] = round(seconds, 2)
        where[key] = res
        if "error" not in res:
            self.measured.setdefault(kind, (seconds, layers or 24))
        log(f"done {name} in {seconds:.1f} s: " + json.dumps({k: v for k, v in res.items() if k != "traceback"},
                                                               default=str)[:600])
        free_memory()
        self.write()
        return res

    # -- environment -------------------------------------------------------------------------------
    def env(self) -> dict[str, Any]:
        import transformers

        e: dict[str, Any] = {
            "started": self.started, "argv": sys.argv[1:], "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__,
            "musicinterp": getattr(mi, "__version__", None), "device": self.device, "dtype": self.args.dtype,
            "quick": self.quick, "budget_s": self.args.budget_s, "cpu_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "hostname": platform.node(),
        }
        for mod in ("nnsight", "huggingface_hub", "tokenizers", "numpy", "dictionary_learning"):
            try:
                e[mod] = __import__(mod).__version__
            except Exception as err:  # noqa: BLE001
                e[mod] = f"unavailable ({type(err).__name__})"
        if cuda(self.device):
            p = torch.cuda.get_device_properties(0)
            e.update(device_name=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                     gpu_memory_gib=round(p.total_memory / 2**30, 1), capability=f"{p.major}.{p.minor}",
                     allow_tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
        else:
            e["device_name"] = platform.processor() or platform.machine()
        return e

    # -- per-size sections -------------------------------------------------------------------------
    def load(self, size: str) -> dict[str, Any]:
        with Timer(self.device) as t:
            model = mi.load_model(size, dtype=self.args.dtype, device=self.device)
        attn = use_sdpa(model)
        self.models[size] = model
        return {"load_s": round(t.s, 2), **attn, "n_layers": model.n_layers, "n_heads": model.n_heads,
                "d_model": model.d_model, "dtype": str(model.dtype),
                "params_m": round(sum(p.numel() for p in model.hf.parameters()) / 1e6, 1),
                "memory_allocated_mib": r4(torch.cuda.memory_allocated() / 2**20) if cuda(self.device) else None}

    def generate(self, size: str) -> dict[str, Any]:
        model = self.models[size]
        frames, warm = self.args.frames, self.args.warm_frames
        out: dict[str, Any] = {"frames": frames, "guidance_scale": 3.0, "top_k": 250,
                               "includes_encodec_decode": True, "warm_up_frames": warm, "batches": {}}
        for b in self.args.batches:
            ids = text_ids(model, b).to(model.device)
            plain_generate(model, ids, warm)  # warm-up at this shape
            times = []
            for _ in range(self.args.repeats):
                base = reset_peak(self.device)
                with Timer(self.device) as t:
                    plain_generate(model, ids, frames)
                times.append(t.s)
            s = median(times)
            out["batches"][str(b)] = {
                "s": r4(s), "steps_per_s": r4(frames / s), "ms_per_step": r4(1000 * s / frames), "cfg_rows": 2 * b,
                "frames_per_s": r4(b * frames / s), "runs_s": [r4(x) for x in times],
                "peak_mib": r4(peak_mib(self.device)), "base_mib": r4(base)}
            log(f"  {size} plain generate batch {b}: {s:.2f} s, {frames / s:.1f} steps/s")
        return out

    def dtypes(self, size: str) -> dict[str, Any]:
        model = self.models[size]
        original = model.dtype
        out: dict[str, Any] = {"how": "model.hf.to(dtype) in place, then back", "frames": self.args.check_frames,
                               "steerer": "diffmeans strength 4 at layer 1 (as tests/models/test_dtypes.py)"}
        ids = text_ids(model, 2, length=5, seed=1)
        try:
            for dt in (torch.bfloat16, torch.float16):
                name = str(dt).replace("torch.", "")
                try:
                    model.hf.to(dt)
                    plain = mi.generate(model, input_ids=ids, n_frames=self.args.check_frames, seed=0,
                                        record_logits=True, decode_audio=False)
                    store = mi.collect(model, random_set(model, 12, 8, "planted", planted=True), ["resid"],
                                       out=self.work / f"dtype-{size}-{name}", overwrite=True, progress=False)
                    layer = min(1, model.n_layers - 1)
                    steerer = mi.DiffMeansSteerer.fit(store, "c",
                                                      config(mi.DiffMeansConfig, 4.0, layers=[layer]))
                    with steerer.apply(model):
                        steered = mi.generate(model, input_ids=ids, n_frames=self.args.check_frames, seed=0,
                                              record_logits=True, decode_audio=False)
                    fin_p = bool(torch.isfinite(plain.logits.float()).all())
                    fin_s = bool(torch.isfinite(steered.logits.float()).all())
                    out[name] = {"no_nan": fin_p and fin_s, "plain_finite": fin_p, "steered_finite": fin_s,
                                 "steered_differs": not torch.equal(steered.logits, plain.logits),
                                 "logits_dtype": str(plain.logits.dtype)}
                    shutil.rmtree(self.work / f"dtype-{size}-{name}", ignore_errors=True)
                except Exception as err:  # noqa: BLE001 - record per dtype
                    out[name] = {"no_nan": False, "error": f"{type(err).__name__}: {err}"[:1000]}
                log(f"  {size} {name}: {out[name]}")
        finally:
            model.hf.to(original)
        out["all_ok"] = all(out[k].get("no_nan") for k in ("bfloat16", "float16"))
        return out

    def steer(self, size: str) -> dict[str, Any]:
        model = self.models[size]
        steps, b = self.args.ratio_frames, self.args.ratio_batch
        with Timer(self.device) as t_store:
            store = mi.collect(model, random_set(model, 24, 12, "overhead"), ["attn_z", "resid"],
                               out=self.work / f"steer-{size}", frames="pooled", overwrite=True, progress=False)
        with Timer(self.device) as t_fit:
            iti = mi.ITISteerer.fit(store, "c", config(mi.ITIConfig, 1e-3, k=48))
            smitin = mi.SMITINSteerer.fit(store, "c", config(mi.SMITINConfig, 1e-3, tau=1.01, interval=1))
            diffmeans = mi.DiffMeansSteerer.fit(store, "c", config(mi.DiffMeansConfig, 1e-3))  # all layers
        ids = text_ids(model, b).to(model.device)
        kw = dict(input_ids=ids, guidance_scale=3.0, do_sample=True, top_k=250, decode_audio=False)

        def runs(n: int) -> dict[str, Callable[[], Any]]:
            return {"plain": lambda: plain_generate(model, ids, n),
                    "traced": lambda: mi.generate(model, seed=0, traced=True, max_new_tokens=n, **kw),
                    "iti": lambda: mi.steer(model, iti, seed=0, max_new_tokens=n, **kw),
                    "smitin": lambda: mi.steer(model, smitin, seed=0, max_new_tokens=n, **kw),
                    "diffmeans": lambda: mi.steer(model, diffmeans, seed=0, max_new_tokens=n, **kw)}

        for fn in runs(self.args.warm_frames).values():
            fn()
        times: dict[str, list[float]] = {k: [] for k in runs(steps)}
        for _ in range(self.args.repeats):  # interleaved, so drift hits every run alike
            for name, fn in runs(steps).items():
                with Timer(self.device) as t:
                    fn()
                times[name].append(t.s)
        med = {k: median(v) for k, v in times.items()}
        ratios = {f"ratio_{k}": r4(med[k] / med["plain"]) for k in med if k != "plain"}
        shutil.rmtree(self.work / f"steer-{size}", ignore_errors=True)
        return {"batch": b, "cfg_rows": 2 * b, "steps": steps, "repeats": self.args.repeats,
                "plain_includes_encodec_decode": True, "traced_and_steered_decode_audio": False,
                "iti_heads": int(iti.tensors["heads"].shape[0]), "smitin": "all heads + monitor, every step",
                "diffmeans": "all layers", "store_s": r4(t_store.s), "fit_s": r4(t_fit.s),
                **{f"{k}_s": r4(v) for k, v in med.items()}, **ratios,
                "steps_per_s": {k: r4(steps / v) for k, v in med.items()},
                "runs_s": {k: [r4(x) for x in v] for k, v in times.items()}, "target_ratio": 1.10,
                "all_within_target": all(v <= 1.10 for v in ratios.values())}

    def collect(self, size: str) -> dict[str, Any]:
        model = self.models[size]
        clips, frames, batch = self.args.collect_clips, self.args.collect_frames, self.args.collect_batch
        cs = random_set(model, clips, frames)
        batches = [cs.codes[i:i + batch] for i in range(0, clips, batch)]  # on the CPU, as collect gets them

        def bare() -> None:
            with torch.no_grad():
                for codes in batches:
                    model.hf(**model.forward_inputs(codes))

        def ours(frames_policy: str, sites: list[str]) -> Any:
            return mi.collect(model, cs, sites, out=self.work / f"collect-{size}-{frames_policy}",
                              frames=frames_policy, batch_size=batch, overwrite=True, progress=False)

        bare()  # warm-up
        ours("pooled", ["resid"])
        out: dict[str, Any] = {"clips": clips, "frames": frames, "batch": batch, "store_dtype": "float32",
                               "sites": ["resid"], "repeats": self.args.repeats}
        for name, fn in (("bare", bare), ("frames", lambda: ours("valid", ["resid"])),
                         ("pooled", lambda: ours("pooled", ["resid"])),
                         ("pooled_attn_z_resid", lambda: ours("pooled", ["attn_z", "resid"]))):
            times, peaks, nbytes = [], [], None
            for _ in range(self.args.repeats):
                base = reset_peak(self.device)
                with Timer(self.device) as t:
                    res = fn()
                times.append(t.s)
                peaks.append(peak_mib(self.device))
                if res is not None:
                    nbytes = res.nbytes
            s = min(times)
            out[name] = {"s": r4(s), "clips_per_s": r4(clips / s), "runs_s": [r4(x) for x in times],
                         "peak_mib": r4(max(peaks)) if peaks[0] is not None else None,
                         "peak_above_base_mib": r4(max(peaks) - base) if base is not None else None,
                         "store_mib": r4(nbytes / 2**20) if nbytes is not None else None}
        for name in ("frames", "pooled", "pooled_attn_z_resid"):
            out[f"ratio_{name}_vs_forward"] = r4(out[name]["s"] / out["bare"]["s"])
        for p in self.work.glob(f"collect-{size}-*"):
            shutil.rmtree(p, ignore_errors=True)
        return out

    # -- global sections ---------------------------------------------------------------------------
    def probe_bank(self) -> dict[str, Any]:
        from musicinterp.probes import ProbeConfig

        n, layers, heads, dim = (200, 2, 4, 16) if self.quick else (2000, 48, 32, 64)

        t0 = time.perf_counter()
        v = synthetic_view(n, layers, heads, dim)  # probe_fit.py's features
        build_s = time.perf_counter() - t0
        cfg = ProbeConfig(device=self.device)
        mi.fit_probe_bank(synthetic_view(200, 1, 2, dim, seed=1), "c", "attn_z", config=cfg)  # warm-up
        times, bank = [], None
        for _ in range(self.args.repeats):
            base = reset_peak(self.device)
            with Timer(self.device) as t:
                bank = mi.fit_probe_bank(v, "c", "attn_z", config=cfg)
            times.append(t.s)
        solver = bank.meta.get("solver", {}) if isinstance(bank.meta, dict) else {}
        return {"heads": layers * heads, "layers": layers, "heads_per_layer": heads, "dim": dim, "n": n,
                "n_train": bank.n_train, "n_val": bank.n_val, "batched_s": r4(min(times)),
                "runs_s": [r4(x) for x in times], "synthetic_build_s": r4(build_s),
                "best_acc": r4(float(bank.val_acc.max())), "solver_iterations_max": solver.get("iterations_max"),
                "peak_mib": r4(peak_mib(self.device)), "base_mib": r4(base),
                "cpu_reference": "README: 1.77 s batched on 2 CPU threads (sklearn loop 435.7 s)",
                "sklearn": "not run"}

    def organism(self):
        if "organism" not in self.models:
            self.models["organism"] = mi.load_model("organism", dtype="float32", device=self.device)
        return self.models["organism"]

    def sweep(self) -> dict[str, Any]:
        model = self.organism()
        n, frames = (4, 12) if self.quick else (16, 200)
        clips = 32 if self.quick else 96
        store = mi.collect(model, organism_api("balanced_set")("drums", clips, seed=7), ["attn_z", "resid"],
                           out=self.work / "sweep-store", frames="pooled", batch_size=32, overwrite=True,
                           progress=False)
        last = [model.n_layers - 1]
        steerers = {"iti": mi.ITISteerer.fit(store, "drums", mi.ITIConfig(k=8)),
                    "smitin": mi.SMITINSteerer.fit(store, "drums", mi.SMITINConfig(monitor_heads=8, interval=2)),
                    "diffmeans": mi.DiffMeansSteerer.fit(store, "drums", mi.DiffMeansConfig(layers=last)),
                    "regression": mi.RegressionSteerer.fit(store, "drums", mi.RegressionConfig(layers=last))}
        prompt_frames = 20 if self.quick else 200  # 200: organism_tasks' continuation prompt (4 s)
        task = organism_tasks(model, "drums", n=n, new_frames=frames, prompt_frames=prompt_frames)[0]
        sweeps = {k: v[:2] for k, v in SWEEPS.items()} if self.quick else SWEEPS  # --quick: 8 settings
        kw = dict(tasks=[task], sweeps=sweeps, progress=False, keep_results=True)
        warm = mi.Task("warm", {**task.kwargs, "n_frames": 4}, task.prompt_frames)
        for batched in (False, True):  # warm-up at the shapes of both engines
            mi.run_comparison(model, steerers, "drums", batched=batched, n=n,
                              **{**kw, "tasks": [warm], "sweeps": {k: v[:1] for k, v in sweeps.items()}})
        times, results = {}, {}
        for mode in ("loop", "batched"):
            with Timer(self.device) as t:
                results[mode] = mi.run_comparison(model, steerers, "drums", batched=mode == "batched", n=n, **kw)
            times[mode] = t.s
            log(f"  sweep {mode}: {t.s:.1f} s")
        success = {mode: {f"{r['method']}@{r['strength']}": r["success"] for r in comp.rows}
                   for mode, comp in results.items()}
        gap = max(abs(success["loop"][k] - success["batched"][k]) for k in success["loop"])
        sampled_identical = all(torch.equal(a["result"].codes, b["result"].codes)
                                for a, b in zip(results["loop"].rows, results["batched"].rows, strict=True))
        greedy = mi.Task("greedy", {**task.kwargs, "do_sample": False, "n_frames": 8 if self.quick else 50},
                         task.prompt_frames)
        gkw = dict(tasks=[greedy], sweeps=sweeps, progress=False, keep_results=True, n=n)
        g_loop = mi.run_comparison(model, steerers, "drums", batched=False, **gkw)
        g_batch = mi.run_comparison(model, steerers, "drums", batched=True, **gkw)
        greedy_identical = all(torch.equal(a["result"].codes, b["result"].codes)
                               for a, b in zip(g_loop.rows, g_batch.rows, strict=True))
        shutil.rmtree(self.work / "sweep-store", ignore_errors=True)
        return {"model": "organism", "dtype": "float32", "n": n, "frames": frames, "prompt_frames": prompt_frames,
                "settings": sum(len(v) for v in sweeps.values()), "sweeps": sweeps,
                "loop_s": r4(times["loop"]), "batched_s": r4(times["batched"]),
                "speedup": r4(times["loop"] / times["batched"]), "greedy_identical": greedy_identical,
                "sampled_identical": sampled_identical, "max_sampled_success_gap": r4(gap),
                "target_speedup": 3.0, "cpu_reference": "README: loop 68.7 s, batched 46.3 s, speedup 1.48"}

    def patch(self) -> dict[str, Any]:
        spec = "tiny" if self.quick else "random-small"
        model = mi.load_model(spec, dtype="float32", device=self.device)
        attn = use_sdpa(model)
        frames, pairs, max_rows = (12, 2, 32) if self.quick else (200, 2, 32)
        clean, corrupt = patch_pair(model, pairs, frames)  # patch_sweep.py's prompt pair
        kw = dict(site="attn_z", over=("layer", "head"), metric="kl", direction="denoise", progress=False)
        mi.patch(model, clean, corrupt, max_rows=max_rows, layers=[0], **kw)  # warm-up
        mi.ablation.patch_sets(model, clean, corrupt, [[(0, 0)]], site="attn_z", metric="kl", batched=False)
        base = reset_peak(self.device)
        with Timer(self.device) as t:
            batched = mi.patch(model, clean, corrupt, max_rows=max_rows, **kw)
        batched_peak = peak_mib(self.device)
        n_cells = batched.tensor.numel()
        want = min(n_cells, self.args.loop_cells)
        picks = torch.linspace(0, n_cells - 1, want).round().long().unique().tolist()
        sets = [[(i // model.n_heads, i % model.n_heads)] for i in picks]
        with Timer(self.device) as t_loop:
            loop = mi.ablation.patch_sets(model, clean, corrupt, sets, site="attn_z", metric="kl", batched=False)
        loop_s = t_loop.s * n_cells / len(picks)
        got = batched.per_codebook.reshape(n_cells, -1)[picks]
        diff = float((got - loop.per_codebook.reshape(got.shape)).abs().max())
        del model
        return {"model": spec, "dtype": "float32", **attn, "cells": n_cells, "frames": frames, "pairs": pairs,
                "max_rows": max_rows, "batched_s": r4(t.s), "loop_s": r4(loop_s),
                "loop_measured_s": r4(t_loop.s), "loop_cells_timed": len(picks),
                "loop_extrapolated": len(picks) < n_cells,
                "note": (f"loop timed on {len(picks)} evenly spread cells of {n_cells}, scaled to all cells"
                         if len(picks) < n_cells else "loop timed on every cell"),
                "speedup": r4(loop_s / t.s), "max_abs_diff": diff, "batched_peak_mib": r4(batched_peak),
                "base_mib": r4(base), "target_speedup": 5.0, "target_max_abs_diff": 1e-4}

    def sae(self) -> dict[str, Any]:
        model = self.organism()
        clips = 32 if self.quick else 256
        steps, batch_size = (20, 256) if self.quick else (500, 1024)
        store = mi.collect(model, organism_api("balanced_set")("drums", clips, seed=7), ["resid"],
                           out=self.work / "sae-store", frames="valid", batch_size=32, overwrite=True,
                           progress=False)
        layer = min(3, model.n_layers - 1)
        settings = {"layer": layer, "dict_size": 1024, "k": 16, "steps": steps, "batch_size": batch_size, "seed": 0}
        cfg = mi.sae.TrainConfig(site="resid", device=self.device, **settings).resolved()
        with Timer(self.device) as t_load:
            x = store.read_frames("resid", layer).float()
            x = x.reshape(x.shape[0], -1)
            x = (x / math.sqrt(float(x.square().sum(1).mean()) / x.shape[1])).to(self.device)
        model_id = store.meta.get("model_id", "organism")
        log_every = 10

        def make_trainer():
            try:
                from musicinterp.sae.architectures import make_trainer as make
            except ImportError:  # moved: build dictionary_learning's trainer the same way
                make = None
            if make is not None:
                return make(cfg, x.shape[1], model_id)
            from dictionary_learning.trainers.top_k import TopKTrainer

            tr = TopKTrainer(steps=cfg.steps, activation_dim=x.shape[1], dict_size=cfg.dict_size, k=cfg.k,
                             layer=cfg.layer, lm_name=model_id, lr=cfg.lr, auxk_alpha=cfg.auxk_alpha,
                             warmup_steps=cfg.warmup_steps, decay_start=cfg.decay_start,
                             threshold_beta=cfg.threshold_beta, threshold_start_step=cfg.threshold_start_step,
                             seed=cfg.seed, device=cfg.device, submodule_name=cfg.site)
            tr.dead_feature_threshold = int(cfg.dead_tokens)
            tr.num_tokens_since_fired = tr.num_tokens_since_fired.to(torch.device(cfg.device))
            return tr

        @torch.no_grad()
        def live_metrics(trainer, batch: torch.Tensor) -> None:  # what mi.sae.train logs every log_every steps
            f = trainer.ae.encode(batch)
            x_hat = trainer.ae.decode(f)
            float(1 - (batch - x_hat).pow(2).sum() / (batch - batch.mean(0)).pow(2).sum())
            float((f != 0).sum(-1).float().mean())

        def in_memory() -> float:
            with Timer(self.device) as t:
                trainer = make_trainer()
                g = torch.Generator().manual_seed(cfg.seed)
                epoch, pos = x[torch.randperm(x.shape[0], generator=g).to(x.device)], 0
                for step in range(cfg.steps):
                    if pos + cfg.batch_size > epoch.shape[0]:
                        epoch, pos = x[torch.randperm(x.shape[0], generator=g).to(x.device)], 0
                    batch = epoch[pos:pos + cfg.batch_size]
                    pos += cfg.batch_size
                    trainer.update(step, batch)
                    if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
                        live_metrics(trainer, batch)
            return t.s

        def streamed() -> float:
            with Timer(self.device) as t:
                mi.sae.train(store, "resid", progress=False, log_every=log_every, device=self.device, **settings)
            return t.s

        mi.sae.train(store, "resid", progress=False, log_every=log_every, device=self.device,
                     **{**settings, "steps": 5})  # warm-up
        runs: dict[str, list[float]] = {"memory": [], "stream": []}
        for i in range(2):
            for side in (("memory", "stream") if i % 2 == 0 else ("stream", "memory")):
                runs[side].append(in_memory() if side == "memory" else streamed())
        t_mem, t_stream = min(runs["memory"]), min(runs["stream"])
        frames = steps * batch_size
        rows = int(store.meta.get("n_rows", x.shape[0]))
        shutil.rmtree(self.work / "sae-store", ignore_errors=True)
        return {"setting": f"organism resid L{layer}, TopK dict 1024 k 16, {steps} steps x {batch_size} float32 on "
                           f"{self.device}, fastest of 2 runs each (alternating)",
                "store_frames": rows, "d": int(x.shape[1]), "memory_load_s": r4(t_load.s),
                "memory_frames_per_s": r4(frames / t_mem), "stream_frames_per_s": r4(frames / t_stream),
                "stream_over_memory": r4(t_mem / t_stream),
                "memory_runs_s": [r4(v) for v in runs["memory"]], "stream_runs_s": [r4(v) for v in runs["stream"]],
                "in_memory_data_on": str(x.device)}

    def matrix(self) -> dict[str, Any]:
        """Pairs of the continuation matrix at n = 128, one at a time while the budget lasts."""
        model = self.organism()
        n = 4 if self.quick else 128
        new_frames = 12 if self.quick else 200
        prompt_frames = 20 if self.quick else 200
        methods = [m for m in self.args.matrix_methods.split(",") if m]
        store_clips = 32 if self.quick else 256
        stores: dict[str, Any] = {}

        def build(concept: str, remove: bool) -> dict[str, Any]:
            if concept not in stores:
                concept_set = organism_api("balanced_set")(concept, store_clips, seed=7)
                stores[concept] = mi.collect(model, concept_set, ["attn_z", "resid"],
                                             out=self.work / f"matrix-{concept}", frames="pooled", batch_size=32,
                                             overwrite=True, progress=False)
            store = stores[concept]
            last = [model.n_layers - 1]
            fits = {"iti": lambda: mi.ITISteerer.fit(store, concept, mi.ITIConfig(k=8, remove=remove)),
                    "smitin": lambda: mi.SMITINSteerer.fit(store, concept, mi.SMITINConfig(
                        remove=remove, monitor_heads=8, interval=2)),
                    "diffmeans": lambda: mi.DiffMeansSteerer.fit(store, concept, mi.DiffMeansConfig(
                        remove=remove, layers=last)),
                    "regression": lambda: mi.RegressionSteerer.fit(store, concept, mi.RegressionConfig(
                        remove=remove, layers=last))}
            return {m: fits[m]() for m in methods}

        def tasks(concept: str, add: bool) -> list:
            return [t for t in organism_tasks(model, concept, n=n, add=add, new_frames=new_frames,
                                              prompt_frames=prompt_frames) if t.name == "continuation"]

        pairs = [(c, d) for c in CONCEPTS for d in ("add", "remove")][: self.args.matrix_pairs]
        out: dict[str, Any] = {"n": n, "task": "continuation", "new_frames": new_frames, "methods": methods,
                               "prompt_frames": prompt_frames,
                               "store_clips": store_clips, "pairs": {}, "not_run": []}
        pair_est = self.estimate("matrix_pair")
        total = 0.0
        for concept, direction in pairs:
            if self.elapsed() + pair_est > self.args.budget_s:
                out["not_run"].append(f"{concept}/{direction}")
                continue
            t0 = time.perf_counter()
            sweeps = SWEEPS if direction == "add" else REMOVE_SWEEPS
            m = mi.steering_matrix(model, build, [concept], [direction], n=n, tasks=tasks, progress=False,
                                   sweeps=lambda c, add, sw=sweeps: {k: sw[k] for k in methods})
            wall = time.perf_counter() - t0
            total += wall
            pair_est = max(pair_est if not out["pairs"] else 0.0, wall * 1.2)
            cells = m.cells("continuation")
            out["pairs"][f"{concept}/{direction}"] = {
                "wall_s": r4(wall), "comparison_s": r4(m.seconds.get((concept, direction))),
                "cells": {meth: {k: r4(v) if isinstance(v, float) else v
                                 for k, v in by_c[concept][direction].items()
                                 if k in ("success", "validity", "collateral", "strength", "within_limits")}
                          for meth, by_c in cells.items()}}
            log(f"  matrix {concept}/{direction}: {wall:.1f} s")
        for p in self.work.glob("matrix-*"):
            shutil.rmtree(p, ignore_errors=True)
        ran = len(out["pairs"])
        out.update(pairs_run=ran, pairs_total=len(pairs), wall_s=r4(total),
                   wall_per_pair_s=r4(total / ran) if ran else None,
                   full_continuation_matrix_estimate_s=r4(total / ran * len(pairs)) if ran else None,
                   note=(f"continuation task only, methods {methods} only (the benchmark's full matrix also has "
                         "smitin-s5 and sae, monitor calibration, and the text tasks); "
                         + ("every pair ran" if ran == len(pairs) else
                            f"{ran} of {len(pairs)} (concept, direction) pairs ran within the budget")))
        return out

    # -- the whole run -----------------------------------------------------------------------------
    def main(self) -> dict[str, Any]:
        self.fig["env"] = self.env()
        log("env " + json.dumps(self.fig["env"]))
        sizes = [s for s in self.args.sizes.split(",") if s]
        S = self.fig["sizes"]
        layers_of = {"tiny": 2, "random-small": 24, "random-medium": 48, "random-large": 48}
        for size in sizes:  # phase 1: load, plain generation, precision check
            S[size] = {}
            L = layers_of.get(size, 24)
            self.run(f"{size}/load", "load", lambda size=size: self.load(size), S[size], "load", L)
            if size not in self.models:
                continue
            self.run(f"{size}/generate", "generate", lambda size=size: self.generate(size), S[size], "generate", L)
            self.run(f"{size}/dtypes", "dtypes", lambda size=size: self.dtypes(size), S[size], "dtypes", L)
        def steer_and_collect(size: str) -> None:
            if size not in self.models:
                return
            L = layers_of.get(size, 24)
            self.run(f"{size}/steer", "steer", lambda: self.steer(size), S[size], "steer", L)
            self.run(f"{size}/collect", "collect", lambda: self.collect(size), S[size], "collect", L)
            del self.models[size]
            free_memory()

        if sizes:  # phase 2: steering overhead and collection on the first size
            steer_and_collect(sizes[0])
        self.run("probe_bank", "probe_bank", self.probe_bank, self.fig, "probe_bank")  # phase 3: global
        self.run("sweep", "sweep", self.sweep, self.fig, "sweep")
        self.run("patch", "patch", self.patch, self.fig, "patch")
        self.run("sae", "sae", self.sae, self.fig, "sae")
        for size in sizes[1:]:  # phase 4: the other sizes' steering overhead and collection
            steer_and_collect(size)
        self.run("matrix", "matrix_pair", self.matrix, self.fig, "matrix")  # phase 5: if time remains
        self.fig["summary"] = self.summary(sizes)
        shutil.rmtree(self.work, ignore_errors=True)
        self.write()
        return self.fig

    def summary(self, sizes: list[str]) -> dict[str, Any]:
        """The headline figures in one place (None where a section was skipped or failed)."""
        def get(d: Any, *path: str) -> Any:
            for p in path:
                if not isinstance(d, dict) or p not in d:
                    return None
                d = d[p]
            return d

        out: dict[str, Any] = {}
        for size in sizes:
            s = self.fig["sizes"].get(size, {})
            out[size] = {
                "plain_steps_per_s": {b: get(s, "generate", "batches", b, "steps_per_s")
                                      for b in (str(x) for x in self.args.batches)},
                **{f"ratio_{k}": get(s, "steer", f"ratio_{k}") for k in ("traced", "iti", "smitin", "diffmeans")},
                "collect_clips_per_s": {k: get(s, "collect", k, "clips_per_s") for k in ("bare", "frames", "pooled")},
                "collect_peak_mib": {k: get(s, "collect", k, "peak_mib") for k in ("bare", "frames", "pooled")},
                "no_nan": {k: get(s, "dtypes", k, "no_nan") for k in ("bfloat16", "float16")},
                "attn_implementation": get(s, "load", "attn_implementation", "decoder_module"),
            }
        out["probe_bank_s"] = get(self.fig, "probe_bank", "batched_s")
        out["sweep_speedup"] = get(self.fig, "sweep", "speedup")
        out["patch_speedup"] = get(self.fig, "patch", "speedup")
        out["sae_stream_over_memory"] = get(self.fig, "sae", "stream_over_memory")
        out["matrix_pairs_run"] = get(self.fig, "matrix", "pairs_run")
        out["skipped"] = [s["section"] for s in self.fig["skipped"]]
        out["errors"] = list(self.fig["errors"])
        return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--sizes", default="random-small,random-medium,random-large",
                    help="comma-separated model specs (tiny works for a CPU dry run)")
    ap.add_argument("--out", required=True, help="output folder: the JSON and temporary stores go under it only")
    ap.add_argument("--budget-s", type=float, default=420.0,
                    help="no section starts when the elapsed time plus its estimate would pass this")
    ap.add_argument("--quick", action="store_true", help="tiny counts for a CPU dry run")
    ap.add_argument("--frames", type=int, default=None, help="plain generate steps (default 500; --quick 6)")
    ap.add_argument("--ratio-frames", type=int, default=None,
                    help="steps of the traced/steered vs plain comparison (default 150; --quick 6)")
    ap.add_argument("--ratio-batch", type=int, default=8)
    ap.add_argument("--warm-frames", type=int, default=None, help="steps of each warm-up generation (default 16)")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per measurement (median / best)")
    ap.add_argument("--collect-clips", type=int, default=None, help="default 16 (--quick 4)")
    ap.add_argument("--collect-frames", type=int, default=None, help="default 200 (--quick 12)")
    ap.add_argument("--collect-batch", type=int, default=8)
    ap.add_argument("--loop-cells", type=int, default=48, help="patching cells the one-trace-per-cell loop times")
    ap.add_argument("--matrix-methods", default="iti", help="methods of the matrix section (comma-separated)")
    ap.add_argument("--matrix-pairs", type=int, default=None,
                    help="(concept, direction) pairs the matrix may run, in order (default all 8; --quick 2)")
    ap.add_argument("--only", default="",
                    help="run only these sections (comma-separated: generate, dtypes, steer, collect, probe_bank, "
                         "sweep, patch, sae, matrix)")
    args = ap.parse_args(argv)
    args.only = {("matrix_pair" if x == "matrix" else x) for x in args.only.split(",") if x}
    q = args.quick
    args.frames = args.frames or (6 if q else 500)
    args.ratio_frames = args.ratio_frames or (6 if q else 150)
    args.warm_frames = max(4, args.warm_frames or (4 if q else 16))  # at least the 4-step delay pattern
    args.check_frames = 3 if q else 20
    args.collect_clips = args.collect_clips or (4 if q else 16)
    args.collect_frames = args.collect_frames or (12 if q else 200)
    args.collect_batch = min(args.collect_batch, args.collect_clips)
    args.matrix_pairs = args.matrix_pairs or (2 if q else 8)
    args.batches = [int(b) for b in args.batches.split(",") if b]
    return args


def main() -> None:
    args = parse_args()
    fig = Suite(args).main()
    log(f"finished: skipped {fig['summary']['skipped']}, errors {fig['summary']['errors']}")
    print(json.dumps(fig, default=str), flush=True)


if __name__ == "__main__":
    main()
