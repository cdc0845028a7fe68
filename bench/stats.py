"""Small measurement helpers: percentiles, and a process's RSS / CPU / fd count from /proc."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence; ``fraction`` in [0, 1]; NaN when empty."""
    if not sorted_values:
        return float("nan")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within [0, 1]")
    rank = max(1, math.ceil(fraction * len(sorted_values) - 1e-9))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def rss_kib(pid: int) -> int:
    """``VmRSS`` of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all threads) in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        text = stat.read()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def host_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return float(total - idle), float(total)


@dataclass
class HostMeter:
    """Busy % of the whole machine (100 × cores = all busy) between ``start`` and ``percent``."""

    busy: float = 0.0
    total: float = 0.0

    def start(self) -> None:
        self.busy, self.total = host_cpu()

    def percent(self) -> float:
        busy, total = host_cpu()
        cores = os.cpu_count() or 1
        return 100.0 * cores * (busy - self.busy) / (total - self.total) if total > self.total else float("nan")


@dataclass
class CpuMeter:
    """CPU% of one process (100 = one core) between ``start`` and ``stop``."""

    pid: int
    wall: float = 0.0
    cpu: float = 0.0

    def start(self, now: float) -> None:
        self.wall, self.cpu = now, cpu_seconds(self.pid)

    def percent(self, now: float) -> float:
        elapsed = now - self.wall
        return 100.0 * (cpu_seconds(self.pid) - self.cpu) / elapsed if elapsed > 0 else float("nan")
