"""``/metrics``: the metrics registry in the Prometheus text exposition format (0.0.4).

Names are ``tigasepy_<id>`` with every character outside ``[a-zA-Z0-9_]`` turned into ``_``; counters
end in ``_total``; histograms arrive from the registry as ``_count``/``_sum``/``_p50``/``_p99`` gauges.
Only clients in ``[http] metrics_allow`` may read it (and the Jolokia endpoint, which shares the check).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from tigase_py.server.core.metrics import Sample

if TYPE_CHECKING:
    from tigase_py.server.core.metrics import MetricsRegistry
    from tigase_py.server.core.server import Server

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "tigasepy_"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
HISTOGRAM_SUFFIXES = ("_count", "_sum", "_p50", "_p99")


def metric_name(metric_id: str) -> str:
    return PREFIX + _INVALID.sub("_", metric_id)


def label_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name)
    return "_" + cleaned if cleaned[:1].isdigit() or cleaned.startswith("__") else cleaned


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def describe(registry: MetricsRegistry, sample: Sample) -> str:
    metric = registry.metrics.get(sample.id)
    if metric is None:
        for suffix in HISTOGRAM_SUFFIXES:
            if sample.id.endswith(suffix):
                metric = registry.metrics.get(sample.id[: -len(suffix)])
                break
    description = metric.description if metric is not None else ""
    return f"{sample.display}: {description}" if description else sample.display


def render(registry: MetricsRegistry) -> str:
    """The exposition text of every sample in ``registry``; families are contiguous and uniquely named."""
    families: dict[str, tuple[str, str, list[Sample]]] = {}  # family name → (type, help, samples)
    owner: dict[str, str] = {}  # family name → metric id that claimed it
    for sample in registry.collect():
        family = metric_name(sample.id)
        kind = "counter" if sample.kind == "counter" else "gauge"
        if kind == "counter":
            family = family.removesuffix("_total")
        while owner.get(family, sample.id) != sample.id or owner.get(family + "_total", sample.id) != sample.id:
            family += "_" + kind
        owner.setdefault(family, sample.id)
        if kind == "counter":
            owner.setdefault(family + "_total", sample.id)
        if family not in families:
            families[family] = (kind, describe(registry, sample), [])
        families[family][2].append(sample)
    lines: list[str] = []
    for family, (kind, help_text, samples) in families.items():
        lines.append(f"# HELP {family} {escape_help(help_text)}")
        lines.append(f"# TYPE {family} {kind}")
        name = family + "_total" if kind == "counter" else family
        for sample in samples:
            labels = ""
            if sample.labels:
                labels = "{" + ",".join(f'{label_name(k)}="{escape_label(v)}"' for k, v in sample.labels) + "}"
            lines.append(f"{name}{labels} {number(sample.value)}")
    return "\n".join(lines) + "\n"


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
    async def handle(request: web.Request) -> web.StreamResponse:
        if not allowed(server, request.remote):
            return web.json_response({"error": f"{request.remote} may not read metrics"}, status=403)
        response = web.Response(body=render(server.metrics).encode())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    return handle
