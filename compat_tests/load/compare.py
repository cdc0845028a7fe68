"""Two load runs side by side: each phase's headline figures and their ratio (second / first)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tigase_py.compat_tests.load.results import LoadResult

# For these a lower figure is better; the report marks which side wins.
LOWER_IS_BETTER = frozenset({"p50_ms", "p95_ms", "p99_ms", "kib_per_session", "errors"})


def _pair_phases(a: Sequence[LoadResult], b: Sequence[LoadResult]) -> list[tuple[str, LoadResult, LoadResult]]:
    """Phases matched by name (then kind); unmatched ones are left out."""
    pairs = []
    remaining = list(b)
    for left in a:
        match = next((r for r in remaining if r.name == left.name), None)
        match = match or next((r for r in remaining if r.kind == left.kind), None)
        if match is not None:
            remaining.remove(match)
            pairs.append((left.name if left.name == match.name else f"{left.name}/{match.name}", left, match))
    return pairs


def _clean(value: float) -> float | None:
    return value if math.isfinite(value) else None


def compare(a: Sequence[LoadResult], b: Sequence[LoadResult]) -> list[dict[str, Any]]:
    """Rows ``{phase, metric, first, second, ratio, better}``; ``better`` is "first", "second" or ""."""
    rows: list[dict[str, Any]] = []
    for phase, left, right in _pair_phases(a, b):
        if left.status != "ok" or right.status != "ok":
            rows.append({"phase": phase, "metric": "status", "first": left.status, "second": right.status,
                         "ratio": None, "better": ""})  # fmt: skip
            continue
        first, second = left.summary(), right.summary()
        for metric, x in first.items():
            y = second[metric]
            if not (math.isfinite(x) or math.isfinite(y)):
                continue
            ratio = y / x if math.isfinite(x) and math.isfinite(y) and x != 0 else math.nan
            better = ""
            if math.isfinite(ratio) and ratio != 1.0:
                second_higher = ratio > 1.0
                better = "first" if second_higher == (metric in LOWER_IS_BETTER) else "second"
            rows.append({"phase": phase, "metric": metric, "first": _clean(x), "second": _clean(y),
                         "ratio": _clean(ratio), "better": better})  # fmt: skip
    return rows
