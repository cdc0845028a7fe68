"""``/metrics``: the metrics registry through ``prometheus_client``, so the exposition is what Prometheus,
promtool and the client libraries' parsers expect.

* Names are ``tigasepy_<id>`` with every character outside ``[a-zA-Z0-9_]`` turned into ``_``; labels
  (vhost, kind, mechanism, …) are labels, never parts of a name.
* Counters are counters (samples ``<name>_total``, with HELP/TYPE on the family), gauges are gauges,
  latencies are histograms (``_bucket{le=…}``, ``_sum``, ``_count``) from the registry's own buckets.
* Process figures use the standard names of prometheus_client's process, GC and platform collectors
  (``process_cpu_seconds_total``, ``process_resident_memory_bytes``, ``process_open_fds``,
  ``python_gc_collections_total``, …); the registry series they duplicate are not exposed twice.
* The format follows the ``Accept`` header: OpenMetrics 1.0 when asked for (Prometheus asks first),
  else the text format 0.0.4.

Only clients in ``[http] metrics_allow`` may read it (and the Jolokia endpoint, which shares the check).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import exposition
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.gc_collector import GC_COLLECTOR
from prometheus_client.platform_collector import PLATFORM_COLLECTOR
from prometheus_client.process_collector import PROCESS_COLLECTOR
from prometheus_client.registry import Collector, CollectorRegistry

from tigase_py.server.core.metrics import Distribution, Value

if TYPE_CHECKING:
    from tigase_py.server.core.metrics import Metric as RegistryMetric
    from tigase_py.server.core.metrics import MetricsRegistry
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.prometheus")

PREFIX = "tigasepy_"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
# Registry series that the standard process/GC collectors already expose under their usual names.
STANDARD_DUPLICATES = frozenset(
    {
        "process.rss_bytes",  # process_resident_memory_bytes
        "process.vms_bytes",  # process_virtual_memory_bytes
        "process.open_fds",  # process_open_fds
        "process.max_fds",  # process_max_fds
        "process.cpu_user_seconds",  # process_cpu_seconds_total (user + system)
        "process.cpu_system_seconds",
        "process.gc_collections",  # python_gc_collections_total{generation}
    }
)
RESERVED_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def metric_name(metric_id: str) -> str:
    name = PREFIX + _INVALID.sub("_", metric_id)
    return name.removesuffix("_total")  # a counter's samples get ``_total`` added back


def label_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name)
    return "_" + cleaned if cleaned[:1].isdigit() or cleaned.startswith("__") else cleaned


def bucket_bound(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def help_text(metric: RegistryMetric) -> str:
    return f"{metric.display}: {metric.description}" if metric.description else metric.display


class RegistryCollector(Collector):
    """Every metric of the registry as one metric family, read at scrape time."""

    def __init__(self, registry: MetricsRegistry) -> None:
        self.registry = registry
        self._warned: set[str] = set()

    def collect(self) -> Iterator[Metric]:
        taken: set[str] = set()
        for metric in list(self.registry.metrics.values()):
            if metric.id in STANDARD_DUPLICATES:
                continue
            name = metric_name(metric.id)
            names = {name, *(name + suffix for suffix in RESERVED_SUFFIXES.get(metric.kind, ()))}
            if names & taken:
                self._warn_clash(metric.id, name)
                continue
            try:
                family = self._family(metric, name)
            except Exception:  # a computed metric must never break the scrape
                log.debug("metric %s could not be read", metric.id, exc_info=True)
                continue
            taken |= names
            yield family

    def _warn_clash(self, metric_id: str, name: str) -> None:
        if metric_id not in self._warned:
            self._warned.add(metric_id)
            log.warning("metric %s not exposed: its Prometheus name %s is taken by another metric", metric_id, name)

    @staticmethod
    def _family(metric: RegistryMetric, name: str) -> Metric:
        labels = [label_name(label) for label in metric.label_names]
        series = list(metric.series())
        documentation = help_text(metric)
        if metric.kind == "histogram":
            histogram = HistogramMetricFamily(name, documentation, labels=labels)
            for label_pairs, dist in series:
                if not isinstance(dist, Distribution):
                    continue
                cumulative, buckets = 0, []
                for bound, count in zip((*dist.buckets, math.inf), dist.counts, strict=True):
                    cumulative += count
                    buckets.append((bucket_bound(bound), float(cumulative)))
                histogram.add_metric([value for _, value in label_pairs], buckets, dist.sum)
            return histogram
        family: CounterMetricFamily | GaugeMetricFamily
        if metric.kind == "counter":
            family = CounterMetricFamily(name, documentation, labels=labels)
        else:
            family = GaugeMetricFamily(name, documentation, labels=labels)
        for label_pairs, value in series:
            number = value.value if isinstance(value, Value) else value
            assert isinstance(number, float | int)
            family.add_metric([label_value for _, label_value in label_pairs], float(number))
        return family


def collector_registry(registry: MetricsRegistry) -> CollectorRegistry:
    """A prometheus_client registry: ours plus the standard process, GC and platform collectors."""
    exposed = CollectorRegistry(auto_describe=False)
    exposed.register(RegistryCollector(registry))
    for standard in (PROCESS_COLLECTOR, GC_COLLECTOR, PLATFORM_COLLECTOR):
        exposed.register(standard)
    return exposed


def render(registry: MetricsRegistry, accept: str = "") -> tuple[bytes, str]:
    """The exposition of ``registry`` in the format ``accept`` asks for, and its Content-Type."""
    encoder, content_type = exposition.choose_encoder(accept)
    return encoder(collector_registry(registry)), content_type


def allowed(server: Server, remote: str | None) -> bool:
    """Whether ``remote`` lies in one of the ``[http] metrics_allow`` networks."""
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in server.config.http.metrics_allow:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_handler(server: Server) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    exposed = collector_registry(server.metrics)

    async def handle(request: web.Request) -> web.StreamResponse:
        if not allowed(server, request.remote):
            return web.json_response({"error": f"{request.remote} may not read metrics"}, status=403)
        encoder, content_type = exposition.choose_encoder(request.headers.get("Accept", ""))
        response = web.Response(body=encoder(exposed))
        response.headers["Content-Type"] = content_type
        response.headers["Vary"] = "Accept"
        return response

    return handle
