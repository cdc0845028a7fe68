"""The load suite: an asyncio XMPP load generator, scenarios, results and reports.

Public API (stable; other tools build on it):

- :func:`run_scenario` (``engine.run_scenario``): run one :class:`~.scenario.Scenario` against a
  :class:`~.scenario.LoadTarget` with worker processes, return a :class:`~.results.LoadResult`;
- :func:`run_scenario_async`: the same, awaited from inside an event loop;
- :func:`run_mix`: the phases of a :class:`~.scenario.Mix` one after the other;
- :mod:`.scenario`: ``Scenario``, ``LoadTarget``, ``Mix``, ``load_mix``, ``load_target``, ``ScenarioError``;
- :mod:`.results`: ``LoadResult``, ``SecondSample``, ``Latency``, ``MemorySample``, ``load``/``save``.
"""

from __future__ import annotations

from tigase_py.compat_tests.load.engine import LoadError, Unreachable, run_mix, run_scenario, run_scenario_async
from tigase_py.compat_tests.load.results import LoadResult
from tigase_py.compat_tests.load.scenario import LoadTarget, Mix, Scenario, ScenarioError

__all__ = [
    "LoadError",
    "LoadResult",
    "LoadTarget",
    "Mix",
    "Scenario",
    "ScenarioError",
    "Unreachable",
    "run_mix",
    "run_scenario",
    "run_scenario_async",
]
