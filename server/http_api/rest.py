"""The status endpoints under /api/v1: health, readiness and statistics. The admin operations (vhosts,
users, sessions, messages, ...) are routed by ``operations.py`` from their one declaration in
``server/admin``."""

from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING

from aiohttp import web

from tigase_py.server import __version__
from tigase_py.server.http_api.table import STRING, Route, array, obj, reply

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

SERVER_KEY = web.AppKey("server", object)
READY_KEY = web.AppKey("ready", dict)

HEALTH = obj(
    ("status", "version", "uptime_seconds", "db_up"),
    status=STRING,
    version=STRING,
    uptime_seconds={"type": "number"},
    db_up={"type": "boolean"},
    limits=obj(
        ("connections", "max_connections", "open_files", "open_files_limit", "fd_exhausted", "fd_refusals"),
        connections={"type": "integer"},
        max_connections={"type": "integer"},
        open_files={"type": ["integer", "null"]},
        open_files_limit={"type": "integer"},
        fd_exhausted={"type": "boolean"},
        fd_refusals={"type": "integer"},
    ),
)
READY = obj(("ready",), ready={"type": "boolean"})
STATS = obj(
    ("version", "uptime_seconds", "vhosts", "sessions", "metrics"),
    version=STRING,
    uptime_seconds={"type": "number"},
    vhosts=array(STRING),
    sessions={"type": "integer"},
    metrics={"type": "object", "additionalProperties": {"type": ["number", "null"]}},
)


def server_of(request: web.Request) -> Server:
    return request.app[SERVER_KEY]  # type: ignore[return-value]


def uptime(server: Server) -> float:
    return round(time.time() - server.started_at, 3)


# -- health ----------------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    server = server_of(request)
    try:
        db_up = bool(await server.storage.ping())
    except Exception:
        db_up = False
    server.stats.db_up.plain.value = 1.0 if db_up else 0.0  # the storage.up gauge follows the latest probe
    body = {
        "status": "ok" if db_up else "degraded",
        "version": __version__,
        "uptime_seconds": uptime(server),
        "db_up": db_up,
        "limits": limits_report(server),
    }
    return reply(body, 200 if db_up else 503)


def limits_report(server: Server) -> dict[str, object]:
    """Connections and descriptors against their limits; ``fd_exhausted`` while connections were
    refused at the open-files limit in the last minute."""
    admission = server.admission
    try:
        open_files: int | None = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_files = None
    return {
        "connections": len(server.connections),
        "max_connections": server.config.limits.max_connections,
        "open_files": open_files,
        "open_files_limit": admission.fd_limit,
        "fd_exhausted": admission.is_fd_exhausted,
        "fd_refusals": admission.fd_exhausted,
    }


async def ready(request: web.Request) -> web.Response:
    is_ready = bool(request.app[READY_KEY].get("ready"))
    return reply({"ready": is_ready}, 200 if is_ready else 503)


async def stats(request: web.Request) -> web.Response:
    server = server_of(request)
    metrics = {key: (value if math.isfinite(value) else None) for key, value in server.metrics.snapshot().items()}
    return reply(
        {
            "version": __version__,
            "uptime_seconds": uptime(server),
            "vhosts": sorted(server.vhosts),
            "sessions": server.sessions.count,
            "metrics": metrics,
        }
    )


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/api/v1/health",
            health,
            "health",
            "Liveness and database check",
            "status",
            {200: HEALTH, 503: HEALTH},
            auth=False,
        ),
        Route(
            "GET",
            "/api/v1/ready",
            ready,
            "ready",
            "Readiness (200 once listeners are up)",
            "status",
            {200: READY, 503: READY},
            auth=False,
        ),
        Route("GET", "/api/v1/stats", stats, "stats", "Server statistics and every metric", "status", {200: STATS}),
    ]
