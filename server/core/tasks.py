"""Background tasks owned by the server: kept referenced, failures logged, awaited at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("tigase_py.server")


class BackgroundTasks:
    """The set of running background tasks; nothing is fire-and-forget."""

    __slots__ = ("running",)

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()

    def track(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_failed", exc_info=task.exception())
