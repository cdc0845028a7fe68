"""The TIGASE-PY-MIB as a live OID → value view of the metrics registry, and the pysnmp instrumentation
controller that answers GET, GETNEXT and GETBULK from it.

Layout under the configured base OID (see ``TIGASE-PY-MIB.txt``):

* ``base.1.<n>.0``: scalars (version, uptime, sessions, connections, …);
* ``base.2.1.<column>.<i>``: ``tpyMetricTable``, one row per series of the registry. Columns are
  2 = name (``component/Metric name[labels]``), 3 = value (decimal text of the float, exact),
  4 = value rounded to an unsigned integer (Counter64). Row indexes ``i`` are 1..N in sorted order of the
  names *at the time of the request*, so a row's index can shift when series are added or removed.

The standard ``system`` group (``snmp_system.py``) is served beside it. Scalars are read live for every
request. The table is one collection of the registry, reused for up to ``TABLE_MAX_AGE`` (1 s), so the
rows of a walk stay consistent and a walk does not collect per OID.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from tigase_py.server import __version__
from tigase_py.server.core.metrics import Sample
from tigase_py.server.observe.snmp_system import SYSTEM, SYSTEM_OBJECTS

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

Oid = tuple[int, ...]

GAUGE32_MAX = 2**32 - 1
COUNTER64_MAX = 2**64 - 1
SCALARS = 1
TABLE_ENTRY = (2, 1)
COLUMN_NAME, COLUMN_VALUE, COLUMN_INTEGER = 2, 3, 4
COLUMNS = (COLUMN_NAME, COLUMN_VALUE, COLUMN_INTEGER)
SCALAR_COUNT = 12
TABLE_MAX_AGE = 1.0  # seconds one collection of the registry serves the table


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


def _total(server: Server, match: Callable[[str], bool]) -> float:
    """Sum of the plain (counter/gauge) series of the metrics whose id matches; computed gauges are read."""
    total = 0.0
    for metric_id, metric in list(server.metrics.metrics.items()):
        if not match(metric_id) or metric.kind == "histogram":
            continue
        try:
            for _, series in metric.series():
                total += series if isinstance(series, float) else getattr(series, "value", 0.0)
        except Exception:  # a computed gauge must never break a view
            continue
    return total


def _metric(metric_id: str) -> Callable[[str], bool]:
    return lambda candidate: candidate == metric_id


def scalars(server: Server) -> list[tuple[int, Any]]:
    """``(n, value)`` for each ``base.1.n.0``, read live; numbers as in the MIB."""
    uptime = int((time.time() - server.started_at) * 100) % (GAUGE32_MAX + 1)
    if "c2s.auth_failures_total" in server.metrics.metrics:
        auth_failures = _total(server, _metric("c2s.auth_failures_total"))
    else:
        auth_failures = _total(server, _metric("c2s.auth_failure"))

    def gauge(value: float) -> Any:
        return rfc1902.Gauge32(unsigned(value, GAUGE32_MAX))

    def counter(value: float) -> Any:
        return rfc1902.Counter64(unsigned(value, COUNTER64_MAX))

    return [
        (1, rfc1902.OctetString(__version__)),
        (2, rfc1902.TimeTicks(uptime)),
        (3, gauge(_total(server, _metric("sm.sessions")))),
        (4, gauge(_total(server, _metric("c2s.connections")))),
        (5, gauge(_total(server, _metric("vhost.users")))),
        (6, counter(auth_failures)),
        (7, counter(_total(server, _metric("c2s.stanzas_in")))),
        (8, gauge(_total(server, _metric("process.open_fds")))),
        (9, gauge(_total(server, _metric("process.max_fds")))),
        (10, gauge(_total(server, _metric("process.rss_bytes")) / 1024)),
        (11, rfc1902.Integer32(1 if _total(server, _metric("storage.up")) >= 1 else 0)),
        (12, gauge(len(server.vhosts))),
    ]


def float_text(value: float) -> str:
    """The shortest decimal text that reads back as exactly this float (``3.0``, ``0.1``, ``inf``)."""
    return repr(float(value))


def cell(column: int, key: str, value: float) -> Any:
    """The SNMP value of one table cell."""
    if column == COLUMN_NAME:
        return rfc1902.OctetString(key.encode())
    if column == COLUMN_VALUE:
        return rfc1902.OctetString(float_text(value))
    return rfc1902.Counter64(unsigned(value, COUNTER64_MAX))


@dataclass(frozen=True, slots=True)
class TableView:
    """The metric table at one moment: its OIDs in order; cells are built only when answered."""

    oids: list[Oid]
    rows: list[tuple[str, float]]

    @classmethod
    def build(cls, samples: list[Sample], entry: Oid) -> TableView:
        rows = sorted((sample.key, sample.value) for sample in samples)
        oids = [entry + (column, index) for column in COLUMNS for index in range(1, len(rows) + 1)]
        return cls(oids, rows)

    def value(self, position: int) -> Any:
        column = COLUMNS[position // len(self.rows)]
        key, value = self.rows[position % len(self.rows)]
        return cell(column, key, value)


class MetricsMibController(AbstractMibInstrumController):  # type: ignore[misc]
    """Answers reads under ``base``; read-only.

    Scalars are read live for each request (once per request, so a GETBULK's rounds agree). The table
    collects the whole registry, which costs milliseconds, so one collection serves every request for
    ``TABLE_MAX_AGE`` seconds: a walk sees consistent row indexes and the event loop is not held up.
    """

    def __init__(self, server: Server, base: Oid, system: Callable[[], list[tuple[Oid, Any]]] | None = None) -> None:
        self.server = server
        self.base = base
        self.system = system
        self.entry = base + TABLE_ENTRY
        self._request: object = None
        self._scalars: tuple[list[Oid], list[Any]] = ([], [])
        self._table = TableView([], [])
        self._table_at = -math.inf

    def _current_request(self, context: dict[str, Any]) -> object:
        engine: Any = context.get("snmpEngine")
        try:
            return engine.observer.get_execution_context("rfc3412.receiveMessage:request").get("pdu")
        except Exception:
            return None

    def _snapshot(self, context: dict[str, Any]) -> tuple[list[Oid], list[Any], TableView]:
        request = self._current_request(context)
        if request is None or request is not self._request:
            live = [(self.base + (SCALARS, n, 0), value) for n, value in scalars(self.server)]
            live = sorted(live + (self.system() if self.system is not None else []))
            self._scalars = ([oid for oid, _ in live], [value for _, value in live])
            self._request = request
        now = time.monotonic()
        if now - self._table_at >= TABLE_MAX_AGE:
            self._table = TableView.build(self.server.metrics.collect(), self.entry)
            self._table_at = now
        return self._scalars[0], self._scalars[1], self._table

    def _find(self, oid: Oid, context: dict[str, Any], after: bool) -> tuple[Oid, Any] | None:
        """The served ``(oid, value)`` equal to ``oid``, or the first one after it when ``after``."""
        scalar_oids, scalar_values, table = self._snapshot(context)
        sources: list[tuple[list[Oid], Callable[[int], Any]]] = [
            (scalar_oids, scalar_values.__getitem__),
            (table.oids, table.value),
        ]
        found: list[tuple[Oid, int, Callable[[int], Any]]] = []
        for oids, read in sources:
            position = bisect.bisect_right(oids, oid) if after else bisect.bisect_left(oids, oid)
            if position < len(oids) and (after or oids[position] == oid):
                found.append((oids[position], position, read))
        if not found:
            return None
        first, position, read = min(found, key=lambda item: item[0])  # the two lists may interleave
        return first, read(position)

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
        answers: list[tuple[Any, Any]] = []
        for index, (name, _) in enumerate(var_binds):
            oid = tuple(name)
            found = self._find(oid, context, after=False)
            if found is not None and self._allowed((name, found[1]), index, context):
                answers.append((name, found[1]))
            elif found is None and self._known_object(oid):
                answers.append((name, rfc1905.noSuchInstance))
            else:
                answers.append((name, rfc1905.noSuchObject))
        return answers

    def _known_object(self, oid: Oid) -> bool:
        """True when ``oid`` is below a scalar or a column this MIB defines (so only the instance is missing)."""
        if oid[: len(SYSTEM)] == SYSTEM and len(oid) > len(SYSTEM) and self.system is not None:
            return 1 <= oid[len(SYSTEM)] <= SYSTEM_OBJECTS
        if oid[: len(self.base)] != self.base or len(oid) < len(self.base) + 3:
            return False
        rest = oid[len(self.base) :]
        if rest[0] == SCALARS:
            return 1 <= rest[1] <= SCALAR_COUNT
        return rest[:2] == TABLE_ENTRY and rest[2] in COLUMNS

    def read_next_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        answers: list[tuple[Any, Any]] = []
        for index, (name, _) in enumerate(var_binds):
            answer: tuple[Any, Any] = (name, rfc1905.endOfMibView)
            oid: Oid = tuple(name)
            while (found := self._find(oid, context, after=True)) is not None:
                candidate = (rfc1902.ObjectName(found[0]), found[1])
                if self._allowed(candidate, index, context):
                    answer = candidate
                    break
                oid = found[0]
            answers.append(answer)
        return answers

    def write_variables(self, *var_binds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        raise smi_error.NotWritableError(idx=0)
