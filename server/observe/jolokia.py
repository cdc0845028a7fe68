"""A read-only, Jolokia-shaped JSON view of the metrics registry, so JMX-over-HTTP tooling can read us.

MBeans:

* ``tigase.stats:type=StatisticsProvider`` with Tigase's attribute names (ConnectionsNumber,
  MessagesNumber, HeapMemUsage = heap used as a percentage of its max, or -1 without a max, as Tigase);
* ``tigase.stats:type=Metrics`` whose attributes are every metric display key;
* the standard ``java.lang`` beans (Memory, Threading, Runtime, OperatingSystem, GarbageCollector) over the
  Python process's own figures: ``java_lang.py`` says what each value means here.

Request types: read (attribute, several attributes, none = all, a wildcard MBean pattern, and an inner
``path`` into a composite value), list, search (ObjectName patterns), version, over
``GET /jolokia/<type>/<args…>`` (``!/`` escapes a slash) and ``POST /jolokia`` (one request or a list).
As with Jolokia's agent, the HTTP status is 200 and each answer carries its own ``status``.

    GET /jolokia/read/java.lang:type=Memory/HeapMemoryUsage/used
    {"request": {...}, "value": 41234432, "timestamp": 1764072000, "status": 200}
"""

from __future__ import annotations

import fnmatch
import json
import math
import resource
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tigase_py.server import __version__
from tigase_py.server.observe.java_lang import Attribute, Bean, JavaLang, heap_usage, non_heap_usage
from tigase_py.server.observe.prometheus import allowed

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

PROVIDER = "tigase.stats:type=StatisticsProvider"
METRICS = "tigase.stats:type=Metrics"
PROTOCOL = "7.2"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ILLEGAL = "java.lang.IllegalArgumentException"


class JolokiaError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _routed(server: Server, kind: str) -> int:
    counter = server.stats.routed_by_kind.get(kind)
    return int(counter.value) if counter is not None else 0


def _cpu_percent(server: Server) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = max(time.time() - server.started_at, 1e-6)
    return round(100.0 * (usage.ru_utime + usage.ru_stime) / elapsed, 3)


def _percent(usage: dict[str, int]) -> float:
    """Tigase's HeapMemUsage: used as a percentage of max, -1 when there is no max."""
    return -1.0 if usage["max"] <= 0 else round(100.0 * usage["used"] / usage["max"], 3)


def provider_attributes(server: Server) -> dict[str, Callable[[], Any]]:
    return {
        "ConnectionsNumber": lambda: server.sessions.count,
        "MessagesNumber": lambda: _routed(server, "message"),
        "PresencesNumber": lambda: _routed(server, "presence"),
        "IQNumber": lambda: _routed(server, "iq"),
        "HeapMemUsage": lambda: _percent(heap_usage()),
        "NonHeapMemUsage": lambda: _percent(non_heap_usage()),
        "CPUUsage": lambda: _cpu_percent(server),
        "UptimeSeconds": lambda: int(time.time() - server.started_at),
        "RegisteredUsers": lambda: sum(server.registered_users.values()),
        "VHostsNumber": lambda: len(server.vhosts),
        "Version": lambda: __version__,
    }


def _object(read: Callable[[], Any], desc: str) -> Attribute:
    return Attribute("java.lang.Object", desc, read)


def _constant(value: float | None) -> Callable[[], float | None]:
    return lambda: value


def _fixed(bean: Bean) -> Callable[[], Bean]:
    return lambda: bean


def object_name(name: str) -> tuple[str, dict[str, str]]:
    """``domain:key=value,…`` → (domain, properties); raises JolokiaError when malformed."""
    domain, colon, rest = name.partition(":")
    properties: dict[str, str] = {}
    for part in rest.split(",") if rest else []:
        key, equals, value = part.partition("=")
        if not equals and part != "*":
            raise JolokiaError(400, "javax.management.MalformedObjectNameException", f"invalid ObjectName {name!r}")
        properties[key] = value
    if not colon:
        raise JolokiaError(400, "javax.management.MalformedObjectNameException", f"invalid ObjectName {name!r}")
    return domain, properties


def is_pattern(name: str) -> bool:
    return any(char in name for char in "*?")


def matches(pattern: str, name: str) -> bool:
    """JMX ObjectName pattern match: wildcards in the domain and values; ``,*`` allows more properties."""
    pattern_domain, wanted = object_name(pattern)
    domain, properties = object_name(name)
    if not fnmatch.fnmatchcase(domain, pattern_domain or "*"):
        return False
    open_ended = wanted.pop("*", None) is not None
    if not open_ended and set(wanted) != set(properties):
        return False
    return all(key in properties and fnmatch.fnmatchcase(properties[key], value) for key, value in wanted.items())


def navigate(value: Any, path: list[str], mbean: str) -> Any:
    """Follow a Jolokia inner path (keys of objects, indexes of arrays) into ``value``."""
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise JolokiaError(400, "javax.management.AttributeNotFoundException", f"no path {step!r} in {mbean}")
    return value


class JolokiaView:
    """Answers Jolokia requests for one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.java = JavaLang(server)

    def beans(self) -> dict[str, Callable[[], Bean]]:
        server = self.server
        java = self.java.beans()
        table: dict[str, Callable[[], Bean]] = {name: _fixed(bean) for name, bean in java.items()}
        table[PROVIDER] = lambda: {name: _object(read, name) for name, read in provider_attributes(server).items()}
        table[METRICS] = lambda: {
            key: _object(_constant(_finite(value)), key) for key, value in server.metrics.snapshot().items()
        }
        return table

    def bean(self, mbean: str) -> Bean:
        beans = self.beans()
        found = beans.get(mbean)
        if found is None:  # the same name with its properties in another order
            wanted = object_name(mbean)
            found = next((read for name, read in beans.items() if object_name(name) == wanted), None)
        if found is None:
            raise JolokiaError(404, "javax.management.InstanceNotFoundException", f"{mbean} not found")
        return found()

    def read_one(self, mbean: str, attribute: str | list[str] | None, path: list[str]) -> Any:
        table = self.bean(mbean)
        if attribute is None or attribute == []:
            return {name: attr.read() for name, attr in table.items()}
        if isinstance(attribute, str) and attribute not in table and "," in attribute:
            attribute = attribute.split(",")  # GET read/<mbean>/A,B
        names = attribute if isinstance(attribute, list) else [attribute]
        missing = [name for name in names if name not in table]
        if missing:
            raise JolokiaError(
                404, "javax.management.AttributeNotFoundException", f"No attribute {missing[0]} in {mbean}"
            )
        if isinstance(attribute, list):
            return {name: table[name].read() for name in names}
        return navigate(table[attribute].read(), path, mbean)

    def read(self, mbean: str, attribute: str | list[str] | None, path: list[str]) -> Any:
        if not is_pattern(mbean):
            return self.read_one(mbean, attribute, path)
        found: dict[str, Any] = {}
        for name in self.search(mbean):
            table = self.bean(name)
            names = [attribute] if isinstance(attribute, str) else attribute or list(table)
            present = [n for n in names if n in table]
            if present:
                found[name] = {n: table[n].read() for n in present}
        if not found:
            raise JolokiaError(404, "javax.management.InstanceNotFoundException", f"no MBean matches {mbean}")
        return found

    def search(self, pattern: str) -> list[str]:
        return sorted(name for name in self.beans() if matches(pattern, name))

    def listing(self) -> dict[str, Any]:
        domains: dict[str, Any] = {}
        for mbean, bean in self.beans().items():
            domain, _, keys = mbean.partition(":")
            attrs = {name: {"type": a.type, "rw": False, "desc": a.desc} for name, a in bean().items()}
            domains.setdefault(domain, {})[keys] = {"desc": mbean, "attr": attrs, "op": {}}
        return domains

    def answer(self, request: dict[str, Any]) -> Any:
        kind = request.get("type")
        if kind == "read":
            mbean = request.get("mbean")
            if not isinstance(mbean, str):
                raise JolokiaError(400, ILLEGAL, "read needs an mbean")
            attribute = request.get("attribute")
            if attribute is not None and not (
                isinstance(attribute, str)
                or (isinstance(attribute, list) and all(isinstance(a, str) for a in attribute))
            ):
                raise JolokiaError(400, ILLEGAL, "attribute must be a string or a list of strings")
            path = request.get("path")
            if path is not None and not isinstance(path, str):
                raise JolokiaError(400, ILLEGAL, "path must be a string")
            return self.read(mbean, attribute, split_path(path) if path else [])
        if kind == "version":
            return {
                "agent": __version__,
                "protocol": PROTOCOL,
                "info": {"product": "tigase-py", "vendor": "tigase-py", "version": __version__},
            }
        if kind == "list":
            return self.listing()
        if kind == "search":
            pattern = request.get("mbean")
            if not isinstance(pattern, str):
                raise JolokiaError(400, ILLEGAL, "search needs an mbean pattern")
            return self.search(pattern)
        raise JolokiaError(400, ILLEGAL, f"unsupported request type {kind!r}")

    def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one Jolokia request object; errors come back as Jolokia error objects, never raised."""
        try:
            value = self.answer(request)
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
        request["attribute"] = args[1]  # "a,b" (several) is resolved against the MBean's names
    if kind == "read" and len(args) > 2:
        request["path"] = "/".join(part.replace("!", "!!").replace("/", "!/") for part in args[2:])
    return request


def _json(data: object) -> web.Response:
    return web.json_response(data, dumps=lambda value: json.dumps(value, allow_nan=False))


def handlers(server: Server) -> tuple[Handler, Handler]:
    """The GET and POST handlers, both limited to ``[http] metrics_allow``."""
    view = JolokiaView(server)

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
        return _json(view.execute(request_from_path(request.match_info.get("tail", ""))))

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
                    view.execute(item)
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
        return _json(view.execute(body))

    return get, post
