"""One run's results as a plain JSON document: what the reports read and ``compat compare`` compares."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tigase_py.compat_tests import levels

OUTCOMES: tuple[str, ...] = (
    "passed",
    "failed",
    "not-supported",
    "expected-deviation",
    "unexpected-pass",
    "skipped",
)
FORMAT = "tigase-py-compat/1"


@dataclass
class CaseResult:
    id: str  # the pytest node id relative to the suites folder, e.g. core/test_stream.py::test_header_id
    name: str
    spec: str
    section: str
    categories: list[str]
    outcome: str
    duration: float
    message: str = ""
    doc: str = ""
    transcript: list[dict[str, object]] = field(default_factory=list)


def summarise(cases: list[dict[str, Any]]) -> dict[str, int]:
    counter = Counter(case["outcome"] for case in cases)
    summary = {outcome: counter.get(outcome, 0) for outcome in OUTCOMES}
    summary["total"] = len(cases)
    return summary


def by_spec(cases: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    specs: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        specs.setdefault(case["spec"], []).append(case)
    return {name: summarise(specs[name]) for name in sorted(specs)}


def document(target: dict[str, Any], cases: list[CaseResult], started: float, duration: float) -> dict[str, Any]:
    """The result document written as JSON, printed by ``--json`` and read back by the reports."""
    rows = [asdict(case) for case in cases]
    return {
        "format": FORMAT,
        "target": target,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration": round(duration, 3),
        "summary": summarise(rows),
        "specs": by_spec(rows),
        "levels": levels.compute(rows),
        "cases": rows,
    }


def failed(doc: dict[str, Any]) -> bool:
    return doc["summary"].get("failed", 0) > 0


def load(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a compat result document ({FORMAT})")
    return data
