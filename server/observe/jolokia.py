"""A read-only, Jolokia-shaped JSON view of the metrics registry, so JMX-over-HTTP tooling can read us.

Two MBeans: ``tigase.stats:type=StatisticsProvider`` with Tigase's attribute names (ConnectionsNumber,
MessagesNumber, HeapMemUsage → RSS bytes, …) and ``tigase.stats:type=Metrics`` whose attributes are
every metric display key. Request types: read, list, search, version, over
``GET /jolokia/<type>/<args…>`` (``!/`` escapes a slash) and ``POST /jolokia`` (one request or a list).

    GET /jolokia/read/tigase.stats:type=StatisticsProvider/ConnectionsNumber
    {"request": {...}, "value": 3, "timestamp": 1764072000, "status": 200}
"""

from __future__ import annotations

import fnmatch
import functools
import json
import math
import resource
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tigase_py.server import __version__
from tigase_py.server.observe.prometheus import allowed

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

PROVIDER = "tigase.stats:type=StatisticsProvider"
METRICS = "tigase.stats:type=Metrics"
PROTOCOL = "7.2"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class JolokiaError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _constant(value: float | None) -> float | None:
    return value


def _routed(server: Server, kind: str) -> int:
    counter = server.stats.routed_by_kind.get(kind)
    return int(counter.value) if counter is not None else 0


def _cpu_percent(server: Server) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = max(time.time() - server.started_at, 1e-6)
    return round(100.0 * (usage.ru_utime + usage.ru_stime) / elapsed, 3)


def provider_attributes(server: Server) -> dict[str, Callable[[], Any]]:
    snapshot = server.metrics.snapshot
    return {
        "ConnectionsNumber": lambda: server.sessions.count,
        "MessagesNumber": lambda: _routed(server, "message"),
        "PresencesNumber": lambda: _routed(server, "presence"),
        "IQNumber": lambda: _routed(server, "iq"),
        "HeapMemUsage": lambda: int(snapshot().get("process/Resident memory", 0)),
        "CPUUsage": lambda: _cpu_percent(server),
        "UptimeSeconds": lambda: int(time.time() - server.started_at),
        "RegisteredUsers": lambda: sum(server.registered_users.values()),
        "VHostsNumber": lambda: len(server.vhosts),
        "Version": lambda: __version__,
    }


def attributes(server: Server, mbean: str) -> dict[str, Callable[[], Any]]:
    if mbean == PROVIDER:
        return provider_attributes(server)
    if mbean == METRICS:
        values = {key: _finite(value) for key, value in server.metrics.snapshot().items()}
        return {key: functools.partial(_constant, value) for key, value in values.items()}
    raise JolokiaError(404, "javax.management.InstanceNotFoundException", f"{mbean} not found")


def read(server: Server, mbean: str, attribute: str | list[str] | None) -> Any:
    table = attributes(server, mbean)
    if attribute is None or attribute == []:
        return {name: get() for name, get in table.items()}
    names = attribute if isinstance(attribute, list) else [attribute]
    missing = [name for name in names if name not in table]
    if missing:
        raise JolokiaError(404, "javax.management.AttributeNotFoundException", f"No attribute {missing[0]} in {mbean}")
    if isinstance(attribute, list):
        return {name: table[name]() for name in names}
    return table[attribute]()


def listing(server: Server) -> dict[str, Any]:
    domain: dict[str, Any] = {}
    for mbean in (PROVIDER, METRICS):
        attrs = {name: {"type": "java.lang.Object", "rw": False, "desc": name} for name in attributes(server, mbean)}
        domain[mbean.split(":", 1)[1]] = {"desc": mbean, "attr": attrs, "op": {}}
    return {"tigase.stats": domain}


def execute(server: Server, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one Jolokia request object; errors come back as Jolokia error objects, never raised."""
    try:
        kind = request.get("type")
        if kind == "read":
            mbean = request.get("mbean")
            if not isinstance(mbean, str):
                raise JolokiaError(400, "java.lang.IllegalArgumentException", "read needs an mbean")
            attribute = request.get("attribute")
            if attribute is not None and not isinstance(attribute, str | list):
                raise JolokiaError(400, "java.lang.IllegalArgumentException", "attribute must be a string or list")
            value = read(server, mbean, attribute)
        elif kind == "version":
            value = {
                "agent": __version__,
                "protocol": PROTOCOL,
                "info": {"product": "tigase-py", "vendor": "tigase-py", "version": __version__},
            }
        elif kind == "list":
            value = listing(server)
        elif kind == "search":
            pattern = request.get("mbean")
            if not isinstance(pattern, str):
                raise JolokiaError(400, "java.lang.IllegalArgumentException", "search needs an mbean pattern")
            value = [name for name in (PROVIDER, METRICS) if fnmatch.fnmatchcase(name, pattern)]
        else:
            raise JolokiaError(400, "java.lang.IllegalArgumentException", f"unsupported request type {kind!r}")
    except JolokiaError as exc:
        return {
            "request": request,
            "status": exc.status,
            "error_type": exc.error_type,
            "error": f"{exc.error_type} : {exc}",
        }
    return {"request": request, "value": value, "timestamp": int(time.time()), "status": 200}


def split_path(path: str) -> list[str]:
    """Split a Jolokia GET path on ``/``; ``!/`` is a literal slash and ``!!`` a literal ``!``."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(path)
    for char in chars:
        if char == "!":
            current.append(next(chars, "!"))
        elif char == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part]


def request_from_path(path: str) -> dict[str, Any]:
    parts = split_path(path)
    if not parts:
        return {"type": "version"}
    kind, args = parts[0], parts[1:]
    request: dict[str, Any] = {"type": kind}
    if kind in ("read", "search") and args:
        request["mbean"] = args[0]
    if kind == "read" and len(args) > 1:
        request["attribute"] = args[1] if len(args) == 2 else args[1:]
    return request


def _json(data: object) -> web.Response:
    return web.json_response(data, dumps=lambda value: json.dumps(value, allow_nan=False))


def handlers(server: Server) -> tuple[Handler, Handler]:
    """The GET and POST handlers, both limited to ``[http] metrics_allow``."""

    def refuse(request: web.Request) -> web.Response | None:
        if allowed(server, request.remote):
            return None
        return web.json_response(
            {
                "status": 403,
                "error_type": "java.lang.SecurityException",
                "error": f"{request.remote} may not read statistics",
            },
            status=403,
        )

    async def get(request: web.Request) -> web.StreamResponse:
        refused = refuse(request)
        if refused is not None:
            return refused
        return _json(execute(server, request_from_path(request.match_info.get("tail", ""))))

    async def post(request: web.Request) -> web.StreamResponse:
        refused = refuse(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _json(
                {
                    "status": 400,
                    "error_type": "java.lang.IllegalArgumentException",
                    "error": "the body must be a JSON request object or a list of them",
                }
            )
        if isinstance(body, list):
            return _json(
                [
                    execute(server, item)
                    if isinstance(item, dict)
                    else {
                        "status": 400,
                        "error_type": "java.lang.IllegalArgumentException",
                        "error": "each request must be an object",
                    }
                    for item in body
                ]
            )
        if not isinstance(body, dict):
            return _json(
                {
                    "status": 400,
                    "error_type": "java.lang.IllegalArgumentException",
                    "error": "the body must be a JSON request object",
                }
            )
        return _json(execute(server, body))

    return get, post
