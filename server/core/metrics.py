"""The one metrics registry every part of the server reports into; HTTP, Prometheus, SNMP, Jolokia and
the XMPP statistics command are views over it.

Each metric has a stable id ``<component>.<name>`` (Prometheus: ``tigasepy_<component>_<name>``) and a
Tigase-style display name ``component/Metric name``. Hot paths hold a child object and do
``child.value += 1``; nothing is computed until a view collects.

    connections = metrics.gauge("c2s.connections", "c2s/Open connections", "open c2s connections",
                                labels=("listener", "tls"))
    connections.labels("127.0.0.1:5222", "starttls").value += 1

A metric may instead be *computed*: ``read`` returns its value when a view collects, or, for a metric
with labels, a mapping of label values to value (one series per vhost, say).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KINDS = ("counter", "gauge", "histogram")
Reader = Callable[[], float | Mapping[tuple[str, ...], float]]


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of one series, as views see it."""

    id: str
    display: str
    kind: str
    labels: tuple[tuple[str, str], ...]
    value: float

    @property
    def key(self) -> str:
        """``component/Metric name`` plus labels, e.g. ``c2s/Open connections[listener=…,tls=…]``."""
        if not self.labels:
            return self.display
        return self.display + "[" + ",".join(f"{k}={v}" for k, v in self.labels) + "]"


class Value:
    """A counter or gauge series: add to ``value`` directly on the hot path."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = value


class Distribution:
    """A histogram series: cumulative counts per bucket, plus count and sum."""

    __slots__ = ("buckets", "counts", "count", "sum")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def time(self) -> _Timer:
        return _Timer(self)

    def quantile(self, q: float) -> float:
        """An upper bound of the q-quantile from the buckets (inf when above the last bucket)."""
        if not self.count:
            return 0.0
        target = q * self.count
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= target:
                return self.buckets[index] if index < len(self.buckets) else float("inf")
        return float("inf")


class _Timer:
    __slots__ = ("_into", "_start")

    def __init__(self, into: Distribution) -> None:
        self._into = into
        self._start = 0.0

    def __enter__(self) -> _Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._into.observe(time.perf_counter() - self._start)


class Metric:
    """A named metric with zero or more label dimensions."""

    __slots__ = ("id", "display", "description", "kind", "label_names", "buckets", "_series", "_read", "_plain")

    def __init__(
        self,
        metric_id: str,
        display: str,
        description: str,
        kind: str,
        label_names: tuple[str, ...] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
        read: Reader | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        if "." not in metric_id or "/" not in display:
            raise ValueError(f"metric id {metric_id!r} needs 'component.name' and a 'component/Name' display")
        self.id = metric_id
        self.display = display
        self.description = description
        self.kind = kind
        self.label_names = label_names
        self.buckets = buckets
        self._series: dict[tuple[str, ...], Value | Distribution] = {}
        self._read = read
        self._plain: Value | Distribution | None = None
        if not label_names and read is None:
            self._plain = self._new()

    def _new(self) -> Value | Distribution:
        return Distribution(self.buckets) if self.kind == "histogram" else Value()

    def labels(self, *values: str) -> Value:
        series = self._series.get(values)
        if series is None:
            if len(values) != len(self.label_names):
                raise ValueError(f"{self.id} takes labels {self.label_names}")
            series = self._series[values] = self._new()
        assert isinstance(series, Value)
        return series

    def dist(self, *values: str) -> Distribution:
        series = self._series.get(values) if values else self._plain
        if series is None:
            if len(values) != len(self.label_names):
                raise ValueError(f"{self.id} takes labels {self.label_names}")
            series = self._series[values] = self._new()
        assert isinstance(series, Distribution)
        return series

    def forget(self, first: str) -> int:
        """Drop the series whose first label value is ``first`` (a vhost going away); return how many remain."""
        for values in [values for values in self._series if values[:1] == (first,)]:
            del self._series[values]
        return len(self._series)

    @property
    def plain(self) -> Value:
        assert isinstance(self._plain, Value), f"{self.id} has labels or is computed"
        return self._plain

    def series(self) -> Iterator[tuple[tuple[tuple[str, str], ...], Value | Distribution | float]]:
        if self._read is not None:
            value = self._read()
            if isinstance(value, Mapping):
                for values, number in value.items():
                    yield tuple(zip(self.label_names, values, strict=True)), float(number)
            else:
                yield (), float(value)
            return
        if self._plain is not None:
            yield (), self._plain
        for values, series in self._series.items():
            yield tuple(zip(self.label_names, values, strict=True)), series


class MetricsRegistry:
    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}

    def _add(self, metric: Metric) -> Metric:
        existing = self.metrics.get(metric.id)
        if existing is not None:
            if existing.kind != metric.kind or existing.label_names != metric.label_names:
                raise ValueError(f"metric {metric.id} already registered differently")
            return existing
        self.metrics[metric.id] = metric
        return metric

    def counter(
        self,
        metric_id: str,
        display: str,
        description: str,
        labels: tuple[str, ...] = (),
        read: Reader | None = None,
    ) -> Metric:
        """A count that only goes up (``read``: one kept elsewhere, e.g. the kernel's CPU seconds)."""
        return self._add(Metric(metric_id, display, description, "counter", labels, read=read))

    def gauge(
        self,
        metric_id: str,
        display: str,
        description: str,
        labels: tuple[str, ...] = (),
        read: Reader | None = None,
    ) -> Metric:
        return self._add(Metric(metric_id, display, description, "gauge", labels, read=read))

    def histogram(
        self,
        metric_id: str,
        display: str,
        description: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> Metric:
        return self._add(Metric(metric_id, display, description, "histogram", labels, buckets))

    def remove(self, metric_id: str) -> None:
        self.metrics.pop(metric_id, None)

    def collect(self) -> list[Sample]:
        """Every series as flat samples; a histogram gives ``_count``, ``_sum``, ``_p50``, ``_p99``."""
        samples: list[Sample] = []
        for metric in self.metrics.values():
            try:
                series_list = list(metric.series())
            except Exception:  # a computed gauge must never break a view
                continue
            for labels, series in series_list:
                if isinstance(series, Distribution):
                    for suffix, value in (
                        ("count", float(series.count)),
                        ("sum", series.sum),
                        ("p50", series.quantile(0.5)),
                        ("p99", series.quantile(0.99)),
                    ):
                        samples.append(
                            Sample(f"{metric.id}_{suffix}", f"{metric.display} {suffix}", "gauge", labels, value)
                        )
                else:
                    value = series.value if isinstance(series, Value) else series
                    samples.append(Sample(metric.id, metric.display, metric.kind, labels, float(value)))
        return samples

    def snapshot(self) -> dict[str, float]:
        """``component/Metric name[labels]`` → value, for JSON and the XMPP statistics command."""
        return {sample.key: sample.value for sample in self.collect()}
