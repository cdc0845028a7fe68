"""The JMX channel: read any JVM (a Java Tigase, or another JVM component of the site) over remote JMX,
or the same MBeans over Jolokia's HTTP protocol (tigase-py's own ``/jolokia``, or a Jolokia agent).

A ``service:jmx:…`` URL goes through jmxquery; an ``http(s)://…/jolokia`` URL is read with one bulk
Jolokia POST (no Java needed). ``target_url`` picks our ``/jolokia`` when the target is our own server.

jmxquery runs ``java -jar JMXQuery.jar`` (so a Java runtime is needed where the CLI runs) and
parses its JSON. It hides a timeout as an empty result, so an empty answer is an error here, and
the whole call is bounded by our own timeout too. Credentials go on the jar's command line, where
``ps`` shows them: prefer a read-only JMX role (Tigase ``etc/jmx.access``: ``monitor readonly``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from tigase_py.monitoring import model

HEAP = "java.lang:type=Memory/HeapMemoryUsage"
THREADS = "java.lang:type=Threading/ThreadCount"
UPTIME = "java.lang:type=Runtime/Uptime"
VM_VERSION = "java.lang:type=Runtime/VmVersion"
OPEN_FILES = "java.lang:type=OperatingSystem/OpenFileDescriptorCount"
OPEN_FILES_LIMIT = "java.lang:type=OperatingSystem/MaxFileDescriptorCount"
TIGASE_STATS = "tigase.stats:type=StatisticsProvider"
# mbean[/attribute]; no attribute = all of them
QUERIES = (HEAP, THREADS, UPTIME, VM_VERSION, OPEN_FILES, OPEN_FILES_LIMIT, TIGASE_STATS)
AUTH_WORDS = ("authentication", "credentials", "password", "securityexception")
URL_SHAPE = re.compile(r"^service:jmx:[a-z]+://")
JOLOKIA_SHAPE = re.compile(r"^https?://", re.IGNORECASE)
# Tigase StatisticsProviderMBean attributes that fill the summary.
TIGASE_SESSIONS = ("ConnectionsNumber",)
TIGASE_MESSAGES = ("MessagesNumber",)

# jmxquery logs the jar's error line itself; we report it once, as one line, through ProbeFailure.
logging.getLogger("jmxquery").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class JmxTarget:
    url: str
    user: str | None = None
    password: str | None = None
    java: str = "java"


def jmx_url(host: str, port: int) -> str:
    return f"service:jmx:rmi:///jndi/rmi://{host}:{port}/jmxrmi"


def target_url(url: str | None, host: str | None, port: int, own_http_url: str | None) -> str:
    """``--jmx-url`` when given; else our own ``/jolokia`` when the config has an HTTP listener and no
    ``--host`` points elsewhere; else remote JMX on ``host:port`` (a Java Tigase)."""
    if url:
        return url
    if own_http_url and not host:
        return own_http_url.rstrip("/") + "/jolokia"
    return jmx_url(host or "127.0.0.1", port)


def _jar_message(output: bytes | str | None) -> str:
    """The ``message`` of the jar's ``{"error": ..., "message": ...}`` line, else its text."""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output or ""
    try:
        document = json.loads(text)
    except ValueError:
        return text.strip().splitlines()[0] if text.strip() else "no output"
    if isinstance(document, dict):
        return str(document.get("message") or document.get("error") or text).strip()
    return text.strip()


def _short(message: str) -> str:
    """The root cause of a Java exception chain, on one line."""
    line = " ".join(message.split())
    if "Connection refused" in line:
        return "connection refused"
    if "Authentication failed" in line:
        return "authentication failed (invalid username or password)"
    if "UnknownHostException" in line:
        return "unknown host"
    return line[:200]


def _query(target: JmxTarget, timeout: float) -> list[Any]:
    from jmxquery import JMXConnection, JMXQuery

    connection = JMXConnection(target.url, target.user, target.password, java_path=target.java)
    queries = []
    for path in QUERIES:
        mbean, _, attribute = path.partition("/")
        queries.append(JMXQuery(mbean, attribute or None))
    return list(connection.query(queries, timeout=timeout))


def _flatten(metrics: dict[str, model.MetricValue], key: str, value: Any) -> None:
    """Jolokia values as jmxquery keys: ``mbean/attribute`` and ``mbean/attribute/item`` for composites."""
    if isinstance(value, dict):
        for name, inner in value.items():
            _flatten(metrics, f"{key}/{name}", inner)
    elif isinstance(value, int | float | str) and not isinstance(value, bool):
        metrics[key] = value


async def probe_jolokia(target: JmxTarget, timeout: float) -> model.ProbeResult:
    """The same queries as one Jolokia bulk read; an MBean the agent lacks (404) is left out."""
    import aiohttp

    requests = []
    for path in QUERIES:
        mbean, _, attribute = path.partition("/")
        requests.append({"type": "read", "mbean": mbean, **({"attribute": attribute} if attribute else {})})
    auth = aiohttp.BasicAuth(target.user, target.password or "") if target.user else None
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.post(target.url, json=requests, auth=auth) as response:
                if response.status in (401, 403):
                    raise model.ProbeFailure(
                        "auth",
                        f"jmx: {target.url} answered {response.status} (check --jmx-user/"
                        "--jmx-password, or [http] metrics_allow on a tigase-py server)",
                    )
                if response.status != 200:
                    raise model.ProbeFailure("error", f"jmx: {target.url} answered {response.status}")
                answers = await response.json(content_type=None)
    except aiohttp.ClientConnectorError as exc:
        reason = "connection refused" if isinstance(exc.os_error, ConnectionRefusedError) else str(exc.os_error)
        raise model.ProbeFailure("unreachable", f"jmx: cannot connect to {target.url} ({reason})") from exc
    except (aiohttp.ClientError, ValueError) as exc:
        raise model.ProbeFailure("error", f"jmx: {target.url} is not a Jolokia endpoint ({exc})") from exc
    except TimeoutError as exc:
        raise model.ProbeFailure("unreachable", f"jmx: no answer from {target.url} within {timeout:g} s") from exc
    if not isinstance(answers, list) or not all(isinstance(answer, dict) for answer in answers):
        raise model.ProbeFailure("error", f"jmx: {target.url} is not a Jolokia endpoint (no list of answers)")
    result = model.ProbeResult(target.url, "jmx", ok=True, latency_ms=(time.perf_counter() - start) * 1000)
    for path, answer in zip(QUERIES, answers, strict=False):
        if answer.get("status") == 200:
            _flatten(result.metrics, path, answer.get("value"))
    if not result.metrics:
        raise model.ProbeFailure("error", f"jmx: {target.url} answered no MBean (a Jolokia agent?)")
    return _fill(result)


async def probe(target: JmxTarget, timeout: float = 10.0) -> model.ProbeResult:
    """Query heap, threads, uptime and Tigase's StatisticsProvider; raise ``ProbeFailure``."""
    if JOLOKIA_SHAPE.match(target.url):
        return await probe_jolokia(target, timeout)
    if not URL_SHAPE.match(target.url):
        raise model.ProbeFailure(
            "error",
            f"jmx: {target.url!r} is neither a JMX service URL (service:jmx:rmi:///jndi/...) "
            "nor a Jolokia URL (http://host:port/jolokia)",
        )
    if shutil.which(target.java) is None:
        raise model.ProbeFailure("error", f"jmx: no Java runtime ({target.java!r} not found; jmxquery needs one)")
    start = time.perf_counter()
    try:
        found = await asyncio.wait_for(asyncio.to_thread(_query, target, timeout), timeout + 2)
    except subprocess.CalledProcessError as exc:
        message = _short(_jar_message(exc.output or exc.stderr))
        lowered = message.lower()
        if any(word in lowered for word in AUTH_WORDS):
            raise model.ProbeFailure("auth", f"jmx: {message} (check --jmx-user/--jmx-password)") from exc
        raise model.ProbeFailure("unreachable", f"jmx: cannot connect to {target.url} ({message})") from exc
    except TimeoutError as exc:
        raise model.ProbeFailure("unreachable", f"jmx: no answer from {target.url} within {timeout:g} s") from exc
    except OSError as exc:
        raise model.ProbeFailure("error", f"jmx: cannot run {target.java}: {exc}") from exc
    if not found:  # jmxquery returns [] when its own timeout expired
        raise model.ProbeFailure("unreachable", f"jmx: no answer from {target.url} within {timeout:g} s")
    result = model.ProbeResult(target.url, "jmx", ok=True, latency_ms=(time.perf_counter() - start) * 1000)
    for item in found:
        key = item.to_query_string()
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        result.metrics[key] = value
    return _fill(result)


def _attribute(metrics: dict[str, model.MetricValue], mbean: str, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = model.number(metrics.get(f"{mbean}/{name}"))
        if value is not None:
            return value
    return None


def _fill(result: model.ProbeResult) -> model.ProbeResult:
    m = result.metrics
    result.heap_used_bytes = model.number(m.get(f"{HEAP}/used"))
    heap_max = model.number(m.get(f"{HEAP}/max"))
    result.heap_max_bytes = heap_max if heap_max is not None and heap_max > 0 else None
    threads = model.number(m.get(THREADS))
    result.threads = None if threads is None else int(threads)
    if (uptime := model.number(m.get(UPTIME))) is not None:
        result.uptime_seconds = uptime / 1000  # Runtime.Uptime is in milliseconds
    if isinstance(m.get(f"{TIGASE_STATS}/Version"), str):  # tigase-py's own Jolokia
        result.version = f"tigase-py {m[f'{TIGASE_STATS}/Version']}"
    elif isinstance(m.get(VM_VERSION), str):
        result.version = f"JVM {m[VM_VERSION]}"
    files, limit = model.number(m.get(OPEN_FILES)), model.number(m.get(OPEN_FILES_LIMIT))
    result.open_files = None if files is None else int(files)
    result.open_files_limit = None if limit is None or limit < 0 else int(limit)
    sessions = _attribute(m, TIGASE_STATS, TIGASE_SESSIONS)
    result.sessions = None if sessions is None else int(sessions)
    result.messages_total = _attribute(m, TIGASE_STATS, TIGASE_MESSAGES)
    if result.messages_total is not None and result.uptime_seconds:
        result.messages_per_second = result.messages_total / result.uptime_seconds
    return result
