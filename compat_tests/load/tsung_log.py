"""Read what Tsung wrote: ``tsung.log`` (text backend, one block per dump interval) and the per-sample
latencies of ``tsung-fullstats.log``.

A ``tsung.log`` block looks like::

    # stats: dump at 1795613885
    stats: users 10 10
    stats: tr_login 7 15.67 9.83 32.46 8.06 0 0      # sample: count mean stddev max min gmean gcount
    stats: connected 7 10                            # counter: in this interval, total
    stats: xmpp_msg_latency 496 1.19 0.94 8.31 0.34 0 0

Sample lines count events in the interval (``count``); counter lines give the interval's change and
the running total. ``xmpp_msg_latency`` is recorded by the receiving session when a stamped message
arrives; Tsung records one per received read, so when several messages arrive in one read the count
is lower than the messages delivered, and an error bounce that echoes the body counts as well (see
:data:`DELIVERY_NOTE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DELIVERY_NOTE = (
    "delivered counts Tsung's xmpp_msg_latency samples: one per stamped message seen, at most one per "
    "TCP read (a lower bound when messages arrive back to back); an error bounce carries the stamp too"
)
_DUMP = re.compile(r"^# stats: dump at (\d+)")
_STAT = re.compile(r"^stats: (\{[^}]*\}|\S+) (.*)$")
_LATENCY = re.compile(r"\{sample,xmpp_msg_latency,(\[[^\]]*\]|[-0-9.e+]+)\}")


@dataclass
class Dump:
    """One interval of ``tsung.log``: sample counts and counter changes by name, plus running totals."""

    at: int
    users: int = 0
    counts: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return int(self.counts.get(name, 0))

    def errors(self) -> int:
        return int(sum(v for k, v in self.counts.items() if k.startswith("error")))


def parse_log(text: str) -> list[Dump]:
    """The complete blocks of a ``tsung.log`` (text backend); a block still being written is left out."""
    dumps: list[Dump] = []
    current: Dump | None = None
    for line in text.splitlines():
        head = _DUMP.match(line)
        if head:
            if current is not None:
                dumps.append(current)
            current = Dump(at=int(head.group(1)))
            continue
        stat = _STAT.match(line)
        if stat is None or current is None:
            continue
        name, values = stat.group(1), stat.group(2).split()
        if name.startswith("{"):
            continue  # per-node os_mon figures (cpu, load, freemem)
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            continue
        if name == "users" and numbers:
            current.users = int(numbers[0])
        elif len(numbers) == 7:  # sample: count mean stddev max min global_mean global_count
            current.counts[name] = numbers[0]
            current.totals[name] = numbers[0] + numbers[6]
        elif len(numbers) == 2:  # counter: change, total
            current.counts[name] = numbers[0]
            current.totals[name] = numbers[1]
    # The last block is complete only when the run has ended (the controller writes EndMonitor).
    if current is not None and "EndMonitor" in text:
        dumps.append(current)
    return dumps


def parse_latencies(text: str) -> list[float]:
    """Every ``xmpp_msg_latency`` sample (milliseconds) in ``tsung-fullstats.log``."""
    values: list[float] = []
    for match in _LATENCY.finditer(text):
        raw = match.group(1)
        if raw.startswith("["):
            values.extend(float(v) for v in raw.strip("[]").split(",") if v.strip())
        else:
            values.append(float(raw))
    return values


def find_log_dir(root: Path) -> Path | None:
    """Tsung makes one ``YYYYMMDD-HHMM`` directory per run under ``-l``; the newest one holding a tsung.log."""
    runs = sorted((p for p in root.iterdir() if (p / "tsung.log").exists()), key=lambda p: p.stat().st_mtime)
    return runs[-1] if runs else None
