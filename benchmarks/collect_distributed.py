"""One process vs two (``accelerate launch``, gloo on CPU) collecting the same store.

Both collect the organism's attn_z and resid (every layer, valid frames) for the same clips; the
two-process store is merged on rank 0. ``identical`` says the merged store holds the same rows,
the same tensors per clip and position, and the same statistics (allclose 1e-5) as the one-process
store. Timings are the ``collect`` call inside the workers (rank 0, after the final merge), so
process start-up and imports are not counted; the same cores are used either way (one process with
``--threads`` threads, or two with ``--threads / 2`` each).

    python benchmarks/collect_distributed.py [--clips 64] [--seconds 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from _common import print_json  # noqa: E402


def worker(args: argparse.Namespace) -> None:
    """Runs in each collecting process."""
    import torch

    torch.set_num_threads(args.threads)
    from musicinterp import load_model
    from musicinterp.collect import collect
    from musicinterp.organism.concept_sets import balanced_set

    model = load_model(args.model)
    cs = balanced_set("drums", args.clips, seed=3, n_frames=int(args.seconds * model.frame_rate))
    t0 = time.perf_counter()
    store = collect(model, cs, ["attn_z", "resid"], out=args.out, batch_size=args.batch, progress=False,
                    distributed=args.distributed)
    seconds = time.perf_counter() - t0
    if int(os.environ.get("RANK", "0")) == 0:
        (Path(args.out) / "timing.json").write_text(json.dumps({"seconds": seconds, "chunks": len(store.meta["chunks"])}))


def compare(a_root: Path, b_root: Path) -> dict:
    from musicinterp.store import ActivationStore

    a, b = ActivationStore.open(a_root, deep_verify=True), ActivationStore.open(b_root, deep_verify=True)
    same_rows = a.clips.to_pylist() == b.clips.to_pylist() and a.index.to_pylist() == b.index.to_pylist()
    tensor_gap = stats_gap = 0.0
    for site in a.sites:
        for layer in range(a.n_layers):
            tensor_gap = max(tensor_gap, float((a.read_frames(site, layer) - b.read_frames(site, layer)).abs().max()))
        for pooling in ("mean", "last"):
            gap = (a.probe_view(site, pooling).x - b.probe_view(site, pooling).x).abs().max()
            tensor_gap = max(tensor_gap, float(gap))
        sa, sb = a.stats(site), b.stats(site)
        parts = [(sa.mean, sb.mean), (sa.var, sb.var)] + [(sa.class_means[k], sb.class_means[k]) for k in sa.class_means]
        stats_gap = max([stats_gap] + [float((x - y).abs().max()) for x, y in parts])
        same_rows = same_rows and sa.count == sb.count and sa.class_count == sb.class_count
    identical = same_rows and tensor_gap <= 1e-6 and stats_gap <= 1e-5
    return {"identical": bool(identical), "same_rows": same_rows, "max_tensor_gap": tensor_gap, "max_stats_gap": stats_gap,
            "one_chunks": [c["name"] for c in a.meta["chunks"]], "two_chunks": [c["name"] for c in b.meta["chunks"]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="organism")
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--distributed", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    work = Path(tempfile.mkdtemp(prefix="mi-dist-"))
    common = ["--model", args.model, "--clips", str(args.clips), "--seconds", str(args.seconds), "--batch",
              str(args.batch), "--worker"]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, args.threads // 2))}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(HERE), *common, "--threads", str(args.threads), "--out", str(work / "one")],
                   check=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
    one_wall = time.perf_counter() - t0
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or "accelerate"
    t0 = time.perf_counter()
    # --multi_gpu starts one process per rank through torchrun; without GPUs each falls back to gloo on CPU
    subprocess.run([accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                    "--mixed_precision", "no", "--dynamo_backend", "no", str(HERE), *common, "--distributed",
                    "--threads", str(max(1, args.threads // 2)), "--out", str(work / "two")], check=True, env=env)
    two_wall = time.perf_counter() - t0
    one = json.loads((work / "one" / "timing.json").read_text())
    two = json.loads((work / "two" / "timing.json").read_text())
    result = compare(work / "one", work / "two")
    print(f"one process {one['seconds']:.2f}s ({one_wall:.1f}s with start-up), two processes {two['seconds']:.2f}s "
          f"({two_wall:.1f}s with start-up); identical={result['identical']}, max tensor gap "
          f"{result['max_tensor_gap']:.2e}, max statistics gap {result['max_stats_gap']:.2e}")
    shutil.rmtree(work, ignore_errors=True)
    print_json({"model": args.model, "clips": args.clips, "seconds_per_clip": args.seconds, "threads_total": args.threads,
                "identical": result["identical"], "one_s": round(one["seconds"], 3), "two_s": round(two["seconds"], 3),
                "speedup": round(one["seconds"] / two["seconds"], 3), "one_wall_s": round(one_wall, 1),
                "two_wall_s": round(two_wall, 1), "max_tensor_gap": result["max_tensor_gap"],
                "max_stats_gap": result["max_stats_gap"], "one_chunks": len(result["one_chunks"]),
                "two_chunks": result["two_chunks"]})


if __name__ == "__main__":
    main()
