"""The benchmark's small measurement helpers (bench/stats.py, bench/run.py table rendering)."""

from __future__ import annotations

import math
import os

import pytest

from bench.stats import CpuMeter, HostMeter, cpu_seconds, fd_count, percentile, rss_kib


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile(values, 0.0) == 1
    assert percentile([7], 0.99) == 7


def test_percentile_empty_and_bad_fraction() -> None:
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError):
        percentile([1, 2], 1.5)


def test_proc_readers_on_self() -> None:
    pid = os.getpid()
    assert rss_kib(pid) > 1000
    assert cpu_seconds(pid) > 0
    assert fd_count(pid) >= 3


def test_meters_report_percentages() -> None:
    meter = CpuMeter(os.getpid())
    meter.start(0.0)
    sum(i * i for i in range(200_000))
    assert meter.percent(1e9) >= 0
    host = HostMeter()
    host.start()
    sum(i * i for i in range(200_000))
    value = host.percent()
    assert math.isnan(value) or 0 <= value <= 100 * (os.cpu_count() or 1) + 1
