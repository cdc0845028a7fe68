"""The HTTP channel: ``GET /api/v1/health`` (no credentials) and ``GET /api/v1/stats`` (API key or
admin JID + password) on the server's ``[http]`` listener.

Without credentials only the health document is read, so the summary has version, uptime and
database state but no metrics. On the server's own host the same requests go over the admin socket
(``socket`` set), where the server answers with full admin rights and no credentials are needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from tigase_py.monitoring import model

HEALTH_PATH = "/api/v1/health"
STATS_PATH = "/api/v1/stats"
METRICS_PATH = "/metrics"


@dataclass(frozen=True, slots=True)
class HttpTarget:
    url: str = "http://127.0.0.1:5280"
    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    socket: str | None = None  # the server's admin socket: HTTP over it, no credentials needed

    @property
    def has_credentials(self) -> bool:
        return bool(self.socket) or bool(self.api_key) or bool(self.user and self.password)

    @property
    def address(self) -> str:
        """What the user is told this target is."""
        return f"unix:{self.socket}" if self.socket else self.url

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key} if self.api_key else {}

    def auth(self) -> aiohttp.BasicAuth | None:
        if self.api_key or not (self.user and self.password):
            return None
        return aiohttp.BasicAuth(self.user, self.password)

    def credential_hint(self) -> str:
        return "--user/--password" if self.user and not self.api_key else "--api-key"


async def _get(
    session: aiohttp.ClientSession, target: HttpTarget, path: str, *, authed: bool, accept: tuple[int, ...] = ()
) -> aiohttp.ClientResponse:
    url = target.url.rstrip("/") + path
    try:
        response = await session.get(
            url, headers=target.headers() if authed else {}, auth=target.auth() if authed else None
        )
    except aiohttp.InvalidURL as exc:
        raise model.ProbeFailure("error", f"http: invalid URL {target.url!r}") from exc
    except aiohttp.ClientConnectorCertificateError as exc:
        reason = model.certificate_reason(exc.certificate_error)
        raise model.ProbeFailure("error", f"http: {target.url}: {reason}") from exc
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, PermissionError) and target.socket:
            raise model.ProbeFailure("auth", f"http: no access to the admin socket {target.socket}") from exc
        refused = isinstance(exc.os_error, ConnectionRefusedError)
        reason = "connection refused" if refused else exc.os_error.strerror or str(exc.os_error)
        raise model.ProbeFailure("unreachable", f"http: cannot connect to {target.address} ({reason.lower()})") from exc
    except aiohttp.ClientError as exc:
        raise model.ProbeFailure("unreachable", f"http: {target.address}: {exc or type(exc).__name__}") from exc
    if response.status in (401, 403):
        word = "unauthorized" if response.status == 401 else "forbidden"
        hint = target.credential_hint() if target.has_credentials else "give --api-key or --user/--password"
        raise model.ProbeFailure("auth", f"http: {response.status} {word} (check {hint})")
    if response.status >= 400 and response.status not in accept:
        raise model.ProbeFailure("error", f"http: {url} answered {response.status} {response.reason or ''}".rstrip())
    return response


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        document = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError) as exc:
        raise model.ProbeFailure("error", f"http: {response.url} did not answer JSON") from exc
    if not isinstance(document, dict):
        raise model.ProbeFailure("error", f"http: {response.url} answered {type(document).__name__}, not an object")
    return document


def _session(timeout: float, target: HttpTarget) -> aiohttp.ClientSession:
    connector = aiohttp.UnixConnector(path=target.socket) if target.socket else None
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=connector)


async def fetch_stats(target: HttpTarget, timeout: float = 5.0) -> dict[str, Any]:
    """The raw ``/api/v1/stats`` document."""
    try:
        async with _session(timeout, target) as session:
            return await _json(await _get(session, target, STATS_PATH, authed=True))
    except TimeoutError as exc:
        raise model.ProbeFailure("unreachable", f"http: no answer from {target.address} within {timeout:g} s") from exc


async def fetch_prometheus(target: HttpTarget, timeout: float = 5.0) -> str:
    """The ``/metrics`` text exposition, unchanged."""
    try:
        async with _session(timeout, target) as session:
            response = await _get(session, target, METRICS_PATH, authed=True)
            return await response.text()
    except TimeoutError as exc:
        raise model.ProbeFailure("unreachable", f"http: no answer from {target.address} within {timeout:g} s") from exc


def _metrics(raw: object) -> dict[str, model.MetricValue]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}


def from_documents(
    url: str, latency_ms: float, health: dict[str, Any], stats: dict[str, Any] | None
) -> model.ProbeResult:
    """Fold the health and (optional) stats documents into one result."""
    result = model.ProbeResult(url, "http", ok=True, latency_ms=latency_ms)
    source = stats if stats is not None else health
    result.version = str(source.get("version") or health.get("version") or "") or None
    result.uptime_seconds = model.number(source.get("uptime_seconds", health.get("uptime_seconds")))
    if "db_up" in health and isinstance(health["db_up"], bool):
        result.storage_up = health["db_up"]
    limits = health.get("limits")
    if isinstance(limits, dict) and isinstance(limits.get("fd_exhausted"), bool):
        result.fd_exhausted = limits["fd_exhausted"]
    if stats is not None:
        vhosts = stats.get("vhosts")
        result.vhosts = [str(v) for v in vhosts] if isinstance(vhosts, list) else []
        if isinstance(stats.get("sessions"), int):
            result.sessions = stats["sessions"]
        result.metrics = _metrics(stats.get("metrics"))
    result = model.summarize(result)
    if isinstance(limits, dict):
        if result.open_files is None and isinstance(limits.get("open_files"), int):
            result.open_files = limits["open_files"]
        if result.open_files_limit is None and isinstance(limits.get("open_files_limit"), int):
            result.open_files_limit = limits["open_files_limit"]
    return result


async def probe(target: HttpTarget, timeout: float = 5.0) -> model.ProbeResult:
    """Read health (always) and stats (when credentials are given); raise ``ProbeFailure``."""
    start = time.perf_counter()
    try:
        async with _session(timeout, target) as session:
            # 503 carries the health document too: the server answers, its database does not.
            health = await _json(await _get(session, target, HEALTH_PATH, authed=False, accept=(503,)))
            stats = None
            if target.has_credentials:
                stats = await _json(await _get(session, target, STATS_PATH, authed=True))
    except TimeoutError as exc:
        raise model.ProbeFailure("unreachable", f"http: no answer from {target.address} within {timeout:g} s") from exc
    return from_documents(target.address, (time.perf_counter() - start) * 1000, health, stats)
