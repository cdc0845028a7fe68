"""One ordered, reversible lifecycle: named steps started in order and stopped in reverse.

If a step fails to start, the steps already started are stopped in reverse order and
:class:`StartupFailed` carries one line saying which step failed and why; shutdown stops every started
step in reverse, and a stop that fails is logged without keeping the others from running.

    lifecycle = Lifecycle([Step("storage", open_storage, close_storage), Step("listeners", listen, unlisten)])
    await lifecycle.start()     # raises StartupFailed("listeners: cannot listen on ...")
    ...
    await lifecycle.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger("tigase_py.lifecycle")

Action = Callable[[], Awaitable[None]]


class StepFailed(Exception):
    """A step could not start for a reason the operator can act on; the message is one line."""


class StartupFailed(Exception):
    """Startup stopped at ``step``; everything started before it has been stopped again."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    start: Action
    stop: Action | None = None


class Lifecycle:
    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")
        self.started: list[Step] = []

    async def start(self) -> None:
        """Start each step in order; on a failure undo the started ones and raise :class:`StartupFailed`
        (a :class:`StepFailed` logs one line; any other exception is a bug and keeps its traceback)."""
        for step in self.steps:
            try:
                await step.start()
            except StepFailed as exc:
                log.error("startup failed at %s: %s", step.name, exc)
                await self.stop()
                raise StartupFailed(step.name, str(exc)) from None
            except BaseException:
                log.error("startup failed at %s", step.name, exc_info=True)
                await self.stop()
                raise
            self.started.append(step)
            log.debug("lifecycle_started step=%s", step.name)

    async def stop(self) -> None:
        """Stop the started steps in reverse order; one failing stop does not skip the rest."""
        while self.started:
            step = self.started.pop()
            try:
                if step.stop is not None:
                    await step.stop()
            except Exception:
                log.error("stop failed at %s", step.name, exc_info=True)
            log.debug("lifecycle_stopped step=%s", step.name)
