"""The TIGASE-PY-MIB as a live OID → value view of the metrics registry, and the pysnmp instrumentation
controller that answers GET, GETNEXT and GETBULK from it.

Layout under the configured base OID (see ``TIGASE-PY-MIB.txt``):

* ``base.1.<n>.0``: scalars (version, uptime, sessions, connections, …);
* ``base.2.1.<column>.<i>``: ``tpyMetricTable``, one row per series of the registry. Columns are
  2 = name (``component/Metric name[labels]``), 3 = value (decimal text of the float, exact),
  4 = value rounded to an unsigned integer (Counter64). Row indexes ``i`` are 1..N in sorted order of the
  names *at the time of the request*, so a row's index can shift when series are added or removed.

Every request collects the registry once; all its variable bindings (a GETBULK included) see that one
snapshot.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from tigase_py.server import __version__
from tigase_py.server.core.metrics import Sample

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

Oid = tuple[int, ...]

GAUGE32_MAX = 2**32 - 1
COUNTER64_MAX = 2**64 - 1
SCALARS = 1
TABLE_ENTRY = (2, 1)
COLUMN_NAME, COLUMN_VALUE, COLUMN_INTEGER = 2, 3, 4


def parse_oid(text: str) -> Oid:
    """``"1.3.6.1.4.1.32473.1"`` (a leading dot allowed) → ``(1, 3, 6, 1, 4, 1, 32473, 1)``."""
    parts = text.strip().strip(".").split(".")
    oid = tuple(int(part) for part in parts)
    if len(oid) < 2 or any(part < 0 for part in oid):
        raise ValueError(f"not an OID: {text!r}")
    return oid


def unsigned(value: float, limit: int) -> int:
    """Round to an integer in 0..limit (NaN → 0, +inf → limit)."""
    if math.isnan(value) or value <= 0:
        return 0
    if math.isinf(value) or value >= limit:
        return limit
    return min(limit, int(round(value)))


def _sum(samples: list[Sample], match: Callable[[Sample], bool]) -> float:
    return sum(sample.value for sample in samples if match(sample))


def _one(samples: list[Sample], metric_id: str) -> float:
    return _sum(samples, lambda sample: sample.id == metric_id and not sample.labels)


def _registered_users(sample: Sample) -> bool:
    return sample.id.startswith("vhost.") and sample.id.endswith(".users")


def scalars(server: Server, samples: list[Sample]) -> list[tuple[int, Any]]:
    """``(n, value)`` for each ``base.1.n.0``; numbers as in the MIB."""
    uptime = int((time.time() - server.started_at) * 100) % (GAUGE32_MAX + 1)
    auth_failures = _one(samples, "c2s.auth_failures_total")
    if not any(sample.id == "c2s.auth_failures_total" for sample in samples):
        auth_failures = _sum(samples, lambda sample: sample.id == "c2s.auth_failure")
    return [
        (1, rfc1902.OctetString(__version__)),
        (2, rfc1902.TimeTicks(uptime)),
        (3, rfc1902.Gauge32(unsigned(_one(samples, "sm.sessions"), GAUGE32_MAX))),
        (4, rfc1902.Gauge32(unsigned(_sum(samples, lambda s: s.id == "c2s.connections"), GAUGE32_MAX))),
        (5, rfc1902.Gauge32(unsigned(_sum(samples, _registered_users), GAUGE32_MAX))),
        (6, rfc1902.Counter64(unsigned(auth_failures, COUNTER64_MAX))),
        (7, rfc1902.Counter64(unsigned(_sum(samples, lambda s: s.id == "c2s.stanzas_in"), COUNTER64_MAX))),
        (8, rfc1902.Gauge32(unsigned(_one(samples, "process.open_fds"), GAUGE32_MAX))),
        (9, rfc1902.Gauge32(unsigned(_one(samples, "process.max_fds"), GAUGE32_MAX))),
        (10, rfc1902.Gauge32(unsigned(_one(samples, "process.rss_bytes") / 1024, GAUGE32_MAX))),
        (11, rfc1902.Integer32(1 if _one(samples, "storage.up") >= 1 else 0)),
        (12, rfc1902.Gauge32(min(len(server.vhosts), GAUGE32_MAX))),
    ]


def float_text(value: float) -> str:
    """The shortest decimal text that reads back as exactly this float (``3.0``, ``0.1``, ``inf``)."""
    return repr(float(value))


def build_view(server: Server, base: Oid) -> tuple[list[Oid], list[Any]]:
    """Every OID this agent serves, sorted, with its value: one collect of the registry."""
    samples = server.metrics.collect()
    entries: list[tuple[Oid, Any]] = [(base + (SCALARS, n, 0), value) for n, value in scalars(server, samples)]
    rows = sorted((sample.key, sample.value) for sample in samples)
    entry = base + TABLE_ENTRY
    for column in (COLUMN_NAME, COLUMN_VALUE, COLUMN_INTEGER):
        for index, (key, value) in enumerate(rows, start=1):
            if column == COLUMN_NAME:
                cell: Any = rfc1902.OctetString(key.encode())
            elif column == COLUMN_VALUE:
                cell = rfc1902.OctetString(float_text(value))
            else:
                cell = rfc1902.Counter64(unsigned(value, COUNTER64_MAX))
            entries.append((entry + (column, index), cell))
    entries.sort(key=lambda item: item[0])
    return [oid for oid, _ in entries], [value for _, value in entries]


class MetricsMibController(AbstractMibInstrumController):  # type: ignore[misc]
    """Answers reads under ``base`` from a per-request snapshot of the registry; read-only."""

    def __init__(self, server: Server, base: Oid) -> None:
        self.server = server
        self.base = base
        self._request: object = None
        self._view: tuple[list[Oid], list[Any]] = ([], [])

    def _snapshot(self, context: dict[str, Any]) -> tuple[list[Oid], list[Any]]:
        """The view for the PDU being answered; built once per request, reused by a GETBULK's rounds."""
        request = None
        engine = context.get("snmpEngine")
        if engine is not None:
            try:
                request = engine.observer.get_execution_context("rfc3412.receiveMessage:request").get("pdu")
            except Exception:
                request = None
        if request is None or request is not self._request:
            self._view = build_view(self.server, self.base)
            self._request = request
        return self._view

    @staticmethod
    def _allowed(var_bind: tuple[Any, Any], index: int, context: dict[str, Any]) -> bool:
        """The engine's VACM check; False when the OID is outside the caller's view (or Counter64 to v1)."""
        check = context.get("acFun")
        if check is None:
            return True
        try:
            return not check("read", var_bind, idx=index, **context)
        except smi_error.NoAccessError:
            return False

    def read_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        oids, values = self._snapshot(context)
        answers: list[tuple[Any, Any]] = []
        for index, (name, _) in enumerate(var_binds):
            oid = tuple(name)
            found = bisect.bisect_left(oids, oid)
            if found < len(oids) and oids[found] == oid:
                value = values[found]
                answer = (name, value) if self._allowed((name, value), index, context) else (name, rfc1905.noSuchObject)
            elif oid[: len(self.base)] == self.base and len(oid) > len(self.base) + 1 and self._known_object(oid):
                answer = (name, rfc1905.noSuchInstance)
            else:
                answer = (name, rfc1905.noSuchObject)
            answers.append(answer)
        return answers

    def _known_object(self, oid: Oid) -> bool:
        """True when ``oid`` is below a scalar or a column this MIB defines (so the instance is missing)."""
        rest = oid[len(self.base) :]
        if rest[0] == SCALARS:
            return 1 <= rest[1] <= 12
        return rest[:2] == TABLE_ENTRY and len(rest) > 2 and rest[2] in (COLUMN_NAME, COLUMN_VALUE, COLUMN_INTEGER)

    def read_next_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        oids, values = self._snapshot(context)
        answers: list[tuple[Any, Any]] = []
        for index, (name, _) in enumerate(var_binds):
            position = bisect.bisect_right(oids, tuple(name))
            answer: tuple[Any, Any] = (name, rfc1905.endOfMibView)
            while position < len(oids):
                candidate = (rfc1902.ObjectName(oids[position]), values[position])
                if self._allowed(candidate, index, context):
                    answer = candidate
                    break
                position += 1
            answers.append(answer)
        return answers

    def write_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        raise smi_error.NotWritableError(idx=0)
