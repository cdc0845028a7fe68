"""The server's resident memory: ``/proc/<pid>/status`` for a local PID, else a Prometheus ``/metrics`` URL.

From metrics we read ``tigasepy_process_rss_bytes`` (our server) or the conventional
``process_resident_memory_bytes`` (Prosody's ``mod_http_openmetrics`` and most exporters).
"""

from __future__ import annotations

import urllib.error
import urllib.request

METRIC_NAMES = ("tigasepy_process_rss_bytes", "process_resident_memory_bytes")
TIMEOUT = 1.0


def proc_rss_kib(pid: int) -> int | None:
    """``VmRSS`` of a local process in KiB, or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def parse_metrics_rss_kib(text: str) -> int | None:
    """The resident memory in KiB from a Prometheus text exposition, or None."""
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name.partition("{")[0] in METRIC_NAMES and rest:
            try:
                return int(float(rest.split()[0]) / 1024)
            except ValueError:
                return None
    return None


def metrics_rss_kib(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return parse_metrics_rss_kib(response.read().decode("utf-8", errors="replace"))
    except (OSError, urllib.error.URLError, ValueError):
        return None


def rss_kib(pid: int | None, metrics_url: str | None) -> tuple[int, str] | None:
    """(KiB, source) from the PID if given, else from the metrics URL; None when neither answers."""
    if pid is not None:
        found = proc_rss_kib(pid)
        return (found, "proc") if found is not None else None
    if metrics_url:
        found = metrics_rss_kib(metrics_url)
        return (found, "metrics") if found is not None else None
    return None
