"""Load-generator worker processes, each driven over its own pipe by the orchestrating process."""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any


class WorkerProcesses(ABC):
    """``count`` spawned processes running ``main(pipe, argument)``; subclasses define the replies."""

    def __init__(self, count: int, main: Callable[[Connection, Any], None], argument: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(count):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=main, args=(theirs, argument), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    @abstractmethod
    def call_each(self, commands: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """Send ``commands[i]`` to worker ``i``; return the replies in worker order."""

    def call_all(self, *command: Any) -> list[dict[str, Any]]:
        return self.call_each([command] * len(self.pipes))

    def reap(self, timeout: float = 10.0) -> None:
        """Wait for every worker to exit (after it was told to), killing the ones that linger."""
        for proc in self.procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
