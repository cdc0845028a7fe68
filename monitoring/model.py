"""One result shape for every monitoring channel (HTTP, SNMP, JMX, XMPP ad-hoc).

A probe either returns a :class:`ProbeResult` with ``ok=True`` or raises :class:`ProbeFailure`,
which :func:`failed` turns into a ``ProbeResult`` with ``ok=False``. Metrics are keyed by Tigase-style
display names (``component/Metric name[labels]``) whatever the channel, so :func:`summarize` reads
the same keys from an HTTP document, an SNMP table walk or an ad-hoc statistics form.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Literal

MetricValue = float | int | str
FailureKind = Literal["unreachable", "auth", "error"]
PROBES = ("http", "snmp", "jmx", "xmpp")

# Display keys of the server's metrics registry (server/core/stats.py) that the summary reads.
MESSAGES_IN = "c2s/Stanzas received[kind=message]"
AUTH_FAILURES = "c2s/All authentication failures"
AUTH_FAILURES_PREFIX = "c2s/Authentication failures"
SESSIONS = "sess-man/Open user sessions"
OPEN_FILES = "process/Open files"
OPEN_FILES_LIMIT = "process/Open files limit"
RESIDENT = "process/Resident memory"
UPTIME = "process/Uptime"
THREADS = "process/Threads"
STORAGE_UP = "storage/Database up"
STORAGE_P99_PREFIX = "storage/Operation latency p99"
REGISTERED_USERS = "vhost-man/Registered users"  # one series per vhost: [vhost=...]


class ProbeFailure(Exception):
    """A probe could not read the target: ``kind`` says whether it was unreachable, refused our
    credentials, or answered something we could not use. The message is one line for the user,
    prefixed with the channel (``http: 401 unauthorized (check --api-key)``)."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


@dataclass(slots=True)
class ProbeResult:
    """What one channel saw of one target. Summary fields are None when the channel cannot tell."""

    target: str
    probe: str
    ok: bool
    latency_ms: float
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    error: str | None = None
    failure: FailureKind | None = None
    version: str | None = None
    uptime_seconds: float | None = None
    vhosts: list[str] = field(default_factory=list)
    sessions: int | None = None
    registered_users: int | None = None
    messages_total: float | None = None
    messages_per_second: float | None = None
    auth_failures: float | None = None
    storage_up: bool | None = None
    storage_latency_ms: float | None = None
    open_files: int | None = None
    open_files_limit: int | None = None
    resident_kib: float | None = None
    heap_used_bytes: float | None = None
    heap_max_bytes: float | None = None
    threads: int | None = None
    fd_exhausted: bool | None = None  # the server refused connections at its open-files limit lately

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def certificate_reason(error: object) -> str:
    """``certificate verify failed: <why>`` from an SSL verification error (or its text)."""
    why = getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)
    return f"certificate verify failed: {why}"


def failed(target: str, probe: str, latency_ms: float, exc: ProbeFailure) -> ProbeResult:
    return ProbeResult(target, probe, ok=False, latency_ms=latency_ms, error=str(exc), failure=exc.kind)


def number(value: object) -> float | None:
    """A metric value as a float, or None when it is not numeric (a version string, a label)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _whole(value: object) -> int | None:
    as_float = number(value)
    return None if as_float is None else int(as_float)


def _sum_prefix(metrics: dict[str, MetricValue], prefix: str) -> float | None:
    values = [number(v) for k, v in metrics.items() if k == prefix or k.startswith(prefix + "[")]
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def summarize(result: ProbeResult) -> ProbeResult:
    """Fill the summary fields still unset from the display-keyed metrics; returns ``result``."""
    m = result.metrics
    if result.sessions is None:
        result.sessions = _whole(m.get(SESSIONS))
    if result.messages_total is None:
        result.messages_total = _sum_prefix(m, MESSAGES_IN)
    if result.auth_failures is None:
        result.auth_failures = number(m.get(AUTH_FAILURES))
        if result.auth_failures is None:
            result.auth_failures = _sum_prefix(m, AUTH_FAILURES_PREFIX)
    if result.open_files is None:
        result.open_files = _whole(m.get(OPEN_FILES))
    if result.open_files_limit is None:
        result.open_files_limit = _whole(m.get(OPEN_FILES_LIMIT))
    if result.resident_kib is None and (resident := number(m.get(RESIDENT))) is not None:
        result.resident_kib = resident / 1024
    if result.uptime_seconds is None:
        result.uptime_seconds = number(m.get(UPTIME))
    if result.threads is None:
        result.threads = _whole(m.get(THREADS))
    if result.storage_up is None and (up := number(m.get(STORAGE_UP))) is not None:
        result.storage_up = up >= 1
    if result.storage_latency_ms is None:
        p99 = [number(v) for k, v in m.items() if k.startswith(STORAGE_P99_PREFIX)]
        present = [v for v in p99 if v is not None]
        if present:
            result.storage_latency_ms = max(present) * 1000  # the registry records seconds
    if result.registered_users is None:
        users = _sum_prefix(m, REGISTERED_USERS)
        if users is not None:
            result.registered_users = int(users)
    if result.messages_per_second is None and result.messages_total is not None and result.uptime_seconds:
        result.messages_per_second = result.messages_total / result.uptime_seconds
    return result


def select(metrics: dict[str, MetricValue], pattern: str | None) -> dict[str, MetricValue]:
    """Metrics whose display key matches the glob ``pattern`` (case-insensitive); all when None."""
    if not pattern:
        return dict(metrics)
    lowered = pattern.lower()
    return {k: v for k, v in metrics.items() if fnmatch.fnmatchcase(k.lower(), lowered)}
