"""XEP-0479 (Compliance Suites 2023) levels, derived from the cases' categories. The one mapping table.

A level is reached when the run holds at least one case of its category, every such case passed
(``passed`` or ``unexpected-pass``), and every level it builds on is reached. A case reported
``not-supported``, ``skipped`` (e.g. no BOSH URL given), ``failed`` or ``expected-deviation`` keeps its
level from being reached: the level requires that feature and the target did not show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# level → the levels it builds on (XEP-0479: Advanced includes Core; IM, Web and Mobile sit on a
# Core server).
REQUIRES: dict[str, tuple[str, ...]] = {
    "Core Server": (),
    "Advanced Server": ("Core Server",),
    "Core IM": ("Core Server",),
    "Advanced IM": ("Core IM", "Advanced Server"),
    "Core Web": ("Core Server",),
    "Advanced Web": ("Core Web", "Advanced Server"),
    "Core Mobile": ("Core Server",),
    "Advanced Mobile": ("Core Mobile", "Advanced Server"),
}
PASSING = ("passed", "unexpected-pass")


def compute(cases: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{level: {"reached", "passed", "total", "missing": [case ids], "requires": [...]}}``."""
    counts: dict[str, dict[str, Any]] = {
        level: {"passed": 0, "total": 0, "missing": [], "requires": list(REQUIRES[level])} for level in REQUIRES
    }
    for case in cases:
        for category in case.get("categories", []):
            if category not in counts:
                continue
            entry = counts[category]
            entry["total"] += 1
            if case["outcome"] in PASSING:
                entry["passed"] += 1
            else:
                entry["missing"].append(case["id"])
    reached: dict[str, bool] = {}

    def is_reached(level: str) -> bool:
        if level not in reached:
            entry = counts[level]
            own = entry["total"] > 0 and entry["passed"] == entry["total"]
            reached[level] = own and all(is_reached(dep) for dep in REQUIRES[level])
        return reached[level]

    for level, entry in counts.items():
        entry["reached"] = is_reached(level)
    return counts
