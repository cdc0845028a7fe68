"""The result of a load run, whatever engine produced it (our generator or a Tsung import), and its JSON.

A results file holds one document::

    {"format": "tigase-py-load/1", "results": [<LoadResult>, ...]}   # one LoadResult per phase

Each :class:`LoadResult` carries metadata (engine ``"tigase-py"`` or ``"tsung"``, target, scenario,
generator, start time), a per-second time series (sessions online, messages sent and delivered in that
second, errors), a latency summary (p50/p95/p99/max and a histogram over fixed buckets) and memory
samples (server RSS and KiB per session) when the server's memory could be read.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

FORMAT = "tigase-py-load/1"
Status = Literal["ok", "not-supported", "failed"]
ENGINES = ("tigase-py", "tsung")

# Upper bounds (ms) of the latency histogram buckets: 0.05 ms … ~60 s, 4 per doubling; last is +inf.
LATENCY_BUCKETS_MS: tuple[float, ...] = tuple(round(0.05 * 2 ** (i / 4), 4) for i in range(81)) + (math.inf,)


class ResultsError(ValueError):
    """A results file that cannot be read (not JSON, wrong format tag, missing field)."""


@dataclass
class SecondSample:
    """What happened during second ``t`` (0 = start of the phase, warm-up included)."""

    t: int
    sessions: int = 0  # sessions online at the end of the second
    sent: int = 0  # messages (or presences / publishes) sent during the second
    delivered: int = 0  # messages received by their addressee during the second
    errors: int = 0  # failed logins, error stanzas, connections lost
    logins: int = 0  # logins completed during the second
    p50_ms: float | None = None  # latency of the deliveries of this second (bucket upper bound)
    p99_ms: float | None = None


@dataclass
class Latency:
    """Delivery latency (send timestamp in the body → receipt), in milliseconds."""

    count: int = 0
    p50_ms: float = math.nan
    p95_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    mean_ms: float = math.nan
    histogram: list[int] = field(default_factory=list)  # counts per LATENCY_BUCKETS_MS bucket

    @classmethod
    def from_samples(cls, samples_ms: Iterable[float]) -> Latency:
        ordered = sorted(samples_ms)
        if not ordered:
            return cls()
        counts = [0] * len(LATENCY_BUCKETS_MS)
        for value in ordered:
            counts[bisect.bisect_left(LATENCY_BUCKETS_MS, value)] += 1
        return cls(
            count=len(ordered), p50_ms=percentile(ordered, 0.50), p95_ms=percentile(ordered, 0.95),
            p99_ms=percentile(ordered, 0.99), max_ms=ordered[-1], mean_ms=math.fsum(ordered) / len(ordered),
            histogram=counts,
        )  # fmt: skip


@dataclass
class MemorySample:
    """Server memory at second ``t`` with ``sessions`` online (from /proc or the server's metrics)."""

    t: float
    sessions: int
    rss_kib: int
    kib_per_session: float = math.nan  # (rss - baseline) / sessions; baseline = RSS at the phase start
    source: str = "proc"  # "proc" or "metrics"


@dataclass
class LoadResult:
    """One phase of one run."""

    engine: str
    scenario: dict[str, Any]  # Scenario.to_dict() (a Tsung import fills what it knows)
    target: dict[str, Any]  # LoadTarget.to_dict()
    started: str  # ISO 8601, UTC
    generator: dict[str, Any] = field(default_factory=dict)  # host, cpus, python, workers, version
    status: Status = "ok"
    note: str = ""  # why "not-supported" / "failed", or remarks
    elapsed_s: float = 0.0
    sessions_ok: int = 0
    sessions_failed: int = 0
    sent: int = 0  # during the measured window
    delivered: int = 0  # during the measured window
    errors: int = 0
    measured_s: float = 0.0  # length of the measured window (after warm-up)
    login_s: float = 0.0  # time taken by all logins of the phase
    series: list[SecondSample] = field(default_factory=list)
    latency: Latency = field(default_factory=Latency)
    baseline_rss_kib: int | None = None
    memory: list[MemorySample] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)  # the first few, for the report

    @property
    def name(self) -> str:
        return str(self.scenario.get("name", self.scenario.get("kind", "?")))

    @property
    def kind(self) -> str:
        return str(self.scenario.get("kind", "?"))

    def summary(self) -> dict[str, float]:
        """The headline figures, the ones ``load compare`` sets side by side."""
        rate = self.delivered / self.measured_s if self.measured_s > 0 else math.nan
        logins = self.sessions_ok / self.login_s if self.login_s > 0 else math.nan
        # Per session only where sessions are all the server holds (idle); elsewhere traffic buffers
        # and the previous phase's freed memory blur it.
        fullest = max(self.memory, key=lambda m: (m.sessions, m.t), default=None)
        kib = fullest.kib_per_session if fullest is not None and self.kind == "idle" else math.nan
        return {
            "sessions": float(self.sessions_ok),
            "logins_per_s": logins,
            "delivered_per_s": rate,
            "sent": float(self.sent),
            "delivered": float(self.delivered),
            "p50_ms": self.latency.p50_ms,
            "p95_ms": self.latency.p95_ms,
            "p99_ms": self.latency.p99_ms,
            "kib_per_session": kib,
            "errors": float(self.errors),
        }

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadResult:
        try:
            values = dict(data)
            values["series"] = [SecondSample(**s) for s in data.get("series", [])]
            values["latency"] = Latency(**_floats(data.get("latency", {})))
            values["memory"] = [MemorySample(**_floats(m)) for m in data.get("memory", [])]
            return cls(**values)
        except TypeError as exc:
            raise ResultsError(f"not a load result: {exc}") from None


def histogram_percentile(counts: dict[int, int], fraction: float) -> float | None:
    """The upper bound of the LATENCY_BUCKETS_MS bucket holding the ``fraction`` percentile."""
    total = sum(counts.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total - 1e-9))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            bound = LATENCY_BUCKETS_MS[min(index, len(LATENCY_BUCKETS_MS) - 1)]
            return bound if math.isfinite(bound) else LATENCY_BUCKETS_MS[-2]
    return None


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (NaN when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return float(ordered[min(rank, len(ordered)) - 1])


def dumps(results: Sequence[LoadResult]) -> str:
    return json.dumps({"format": FORMAT, "results": [r.to_dict() for r in results]}, indent=1)


def loads(text: str) -> list[LoadResult]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsError(f"not a {FORMAT} results document (format tag missing or different)")
    return [LoadResult.from_dict(r) for r in data.get("results", [])]


def save(path: Path, results: Sequence[LoadResult]) -> None:
    Path(path).write_text(dumps(results))


def load(path: Path) -> list[LoadResult]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ResultsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return loads(text)
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def _json_safe(value: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _floats(data: dict[str, Any]) -> dict[str, Any]:
    """null → NaN for the float fields written by :func:`_json_safe`."""
    return {k: (math.nan if v is None and k not in ("histogram",) else v) for k, v in data.items()}
