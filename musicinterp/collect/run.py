"""The collection loop shared by clip and prompt collection.

Every process decides what to do with the folder before any of them changes it
(reuse a complete store, resume, start afresh, or refuse); the main process
prepares it; each process builds its own chunks and hands them to a writer
thread; once all are done the main process merges the row index and the
statistics into the finished store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..engine.active import refuse_active_steering
from ..models.musicgen import MusicGen
from ..store.background import BackgroundWriter, Trimmer
from ..store.folder import decide, prepare
from ..store.reader import ActivationStore
from ..store.writer import Chunk, StoreWriter
from .distributed import Processes
from .request import ChunkPlan


def run_collection(out: str | Path, config: dict[str, Any], plan: ChunkPlan, build: Callable[[int], Chunk], *,
                   model: MusicGen, procs: Processes, overwrite: bool, progress: bool, desc: str,
                   check_clips: Callable[[list[dict[str, Any]]], None],
                   on_chunk_written: Callable[[int], None] | None = None) -> ActivationStore:
    """Run (or reuse, or resume) the collection ``config`` into ``out``; return the opened store."""
    root = Path(out)
    action = decide(root, config, overwrite)
    if action == "reuse":
        return ActivationStore.open(root, model=model)
    refuse_active_steering(model, "collection", "it would store steered activations")
    procs.barrier()
    if procs.is_main:
        prepare(root, config, action)
    procs.barrier()
    writer = StoreWriter(root, config, rank=procs.rank)
    done = writer.committed()
    mine = procs.split(range(plan.n_chunks))
    todo = [c for c in mine if c not in done]
    sizes = {c: plan.bounds(c)[1] - plan.bounds(c)[0] for c in mine}
    bar = tqdm(total=sum(sizes.values()), initial=sum(sizes[c] for c in mine if c in done), unit="clip",
               desc=desc if procs.world == 1 else f"{desc} [rank {procs.rank}]", disable=not progress)

    def write(chunk: Chunk) -> None:
        writer.write(chunk)
        if on_chunk_written is not None:
            on_chunk_written(chunk.index)

    trim = Trimmer(plan.trim_allowance)
    with BackgroundWriter(write, plan.in_flight, release=trim) as background:
        for c in todo:
            background.reserve()
            # Statistics are computed here, not on the writer thread: their float64 temporaries freed on a
            # second thread stay in glibc's per-thread arena (about 100 MB per chunk on random-small), which
            # would break the memory budget; on the building thread they are reused chunk after chunk.
            chunk = build(c)
            trim()  # the forward's transients: freed, but kept by the allocator until trimmed
            chunk = chunk.with_stats()
            trim()
            background.submit(chunk)
            del chunk  # the writer thread holds the only reference now
            bar.update(sizes[c])
    bar.close()
    procs.barrier()
    error: BaseException | None = None
    if procs.is_main:
        try:
            writer.finalize(plan.n_chunks, {"stats_rows": "frames" if config["frames_stored"] else "pooled_mean"},
                            check_clips)
        except BaseException as err:  # the other processes must still pass the barrier below
            error = err
    procs.barrier()
    if error is not None:
        raise error
    return ActivationStore.open(root, model=model)
