"""Runs scenarios: spreads the sessions over worker processes, gathers their per-second reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tigase_py.compat_tests.load.results import LoadResult, SecondSample
from tigase_py.compat_tests.load.scenario import LoadTarget, Mix, Scenario

Progress = Callable[[SecondSample], None]


class LoadError(RuntimeError):
    """The run could not happen at all (target unreachable, every login refused, a worker died)."""


class Unreachable(LoadError):
    """Nothing answers at the target's host and port."""


def run_scenario(
    target: LoadTarget, scenario: Scenario, *, workers: int = 1, progress: Progress | None = None
) -> LoadResult:
    """Run one phase with ``workers`` generator processes and return its result.

    ``progress`` is called in the calling process once per second with the aggregated sample of that
    second (sessions online, sent, delivered, errors). Raises :class:`Unreachable` when nothing listens
    at the target, :class:`LoadError` when no session could log in. A kind the server does not offer
    (MUC / PubSub missing from disco) gives a result with ``status="not-supported"``.
    """
    raise NotImplementedError


def run_mix(
    target: LoadTarget, mix: Mix | Sequence[Scenario], *, workers: int = 1, progress: Progress | None = None
) -> list[LoadResult]:
    """The phases of ``mix`` one after the other (each with fresh sessions)."""
    phases = mix.phases if isinstance(mix, Mix) else tuple(mix)
    return [run_scenario(target, phase, workers=workers, progress=progress) for phase in phases]
