"""Sharding across processes under ``torchrun``: canonical micro-batches by rank, gather by index.

One process is the default (``world == 1``) and needs no process group. Under ``torchrun`` the
environment carries RANK and WORLD_SIZE; the gloo backend is used on CPU, nccl on CUDA. Work is
assigned as whole canonical micro-batches (round-robin by batch number), and results are
gathered into dicts keyed by video index, so rank 0 reduces exactly what one process would.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str = "cpu") -> Dist:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if device.startswith("cuda") else "gloo"
            dist.init_process_group(backend=backend)
        return cls(rank=dist.get_rank(), world=dist.get_world_size())

    def shard(self, batches: list[T]) -> list[T]:
        """This rank's canonical micro-batches."""
        return batches[self.rank :: self.world]

    def gather(self, local: dict[int, Any]) -> dict[int, Any]:
        """Merge every rank's ``{index: value}`` (all ranks receive the union)."""
        if self.world == 1:
            return dict(local)
        import torch.distributed as dist

        parts: list[dict[int, Any] | None] = [None] * self.world
        dist.all_gather_object(parts, local)
        merged: dict[int, Any] = {}
        for part in parts:
            assert part is not None
            merged.update(part)
        return merged

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()
