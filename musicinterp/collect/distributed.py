"""The processes a collection runs on: one, or many under Hugging Face ``accelerate``.

With ``distributed=True`` the collection asks accelerate's :class:`PartialState`
for this process's rank and the process count (set by ``accelerate launch``,
or by ``torchrun``-style ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` variables),
splits the chunk list into contiguous slices with ``split_between_processes``
and meets the others at ``wait_for_everyone``. Only file names and small JSON
records are shared through the store folder; activations never travel between
processes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Processes:
    """This process's place among the collecting processes (a single process by default)."""

    rank: int = 0
    world: int = 1
    state: Any = None  # accelerate's PartialState when distributed

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.state is not None and self.world > 1:
            self.state.wait_for_everyone()

    def split(self, items: Sequence[T]) -> list[T]:
        """This process's contiguous slice of ``items`` (the earlier ranks take one more when uneven)."""
        if self.state is None or self.world == 1:
            return list(items)
        with self.state.split_between_processes(list(items)) as mine:
            return list(mine)

    def device(self) -> str:
        """The device accelerate gives this process (``"cpu"`` when not distributed)."""
        return "cpu" if self.state is None else str(self.state.device)


def processes(distributed: bool) -> Processes:
    """The single process, or this process of an ``accelerate launch`` run."""
    if not distributed:
        return Processes()
    import torch
    from accelerate import PartialState

    cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes") or not torch.cuda.is_available()
    state = PartialState(cpu=cpu)
    return Processes(rank=state.process_index, world=state.num_processes, state=state)
