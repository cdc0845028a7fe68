"""The JMX channel: read any JVM (a Java Tigase, or another JVM component of the site) over remote JMX.

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
TIGASE_STATS = "tigase.stats:type=StatisticsProvider"
QUERIES = (HEAP, THREADS, UPTIME, VM_VERSION, TIGASE_STATS)  # mbean[/attribute]; no attribute = all of them
AUTH_WORDS = ("authentication", "credentials", "password", "securityexception")
URL_SHAPE = re.compile(r"^service:jmx:[a-z]+://")
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


async def probe(target: JmxTarget, timeout: float = 10.0) -> model.ProbeResult:
    """Query heap, threads, uptime and Tigase's StatisticsProvider; raise ``ProbeFailure``."""
    if not URL_SHAPE.match(target.url):
        raise model.ProbeFailure("error", f"jmx: {target.url!r} is not a JMX service URL (service:jmx:rmi:///jndi/...)")
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
    if isinstance(m.get(VM_VERSION), str):
        result.version = f"JVM {m[VM_VERSION]}"
    sessions = _attribute(m, TIGASE_STATS, TIGASE_SESSIONS)
    result.sessions = None if sessions is None else int(sessions)
    result.messages_total = _attribute(m, TIGASE_STATS, TIGASE_MESSAGES)
    if result.messages_total is not None and result.uptime_seconds:
        result.messages_per_second = result.messages_total / result.uptime_seconds
    return result
