"""One aiohttp Application on ``[http] address:port``: the admin REST API (/api/v1), /metrics and
/jolokia. Errors are JSON in one place (the middleware below); CORS answers only configured origins.
The same application, with the local principal instead of API keys, is served on the admin socket
(``net/admin_socket.py``).

The listeners that serve it, and build it on their first connection, are in ``net/lazy_http.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from tigase_py.server.core.scripts import ScriptManager
from tigase_py.server.http_api import all_routes
from tigase_py.server.http_api.auth import REALM, Principal, Unauthorized, authenticate
from tigase_py.server.http_api.commands import SCRIPTS_KEY
from tigase_py.server.http_api.operations import CALLER
from tigase_py.server.http_api.rest import READY_KEY, SERVER_KEY
from tigase_py.server.http_api.table import ApiError, Handler, Route, error
from tigase_py.server.net import admin_socket
from tigase_py.server.observe import jolokia
from tigase_py.server.observe.prometheus import metrics_handler

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.http")

Caller = Callable[["Server", web.Request], Awaitable[Principal]]

ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key"
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
MAX_BODY = 1 << 20


def traversal(request: web.Request) -> bool:
    """Whether the path tries to climb out (``..`` plain or percent-encoded, once or twice)."""
    raw = request.raw_path.split("?", 1)[0]
    for text in (raw, unquote(raw), unquote(unquote(raw)), request.path):
        if any(segment == ".." for segment in text.replace("\\", "/").split("/")):
            return True
    return False


def cors_headers(server: Server, request: web.Request) -> dict[str, str]:
    origin = request.headers.get("Origin")
    allowed = server.config.http.cors_origins
    if origin is None or not (origin in allowed or "*" in allowed):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def middleware(server: Server) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def handle(request: web.Request, handler: Handler) -> web.StreamResponse:
        cors = cors_headers(server, request)
        if traversal(request):
            return error(404, "not found")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not cors:
                return error(403, "origin not allowed")
            return web.Response(
                status=204,
                headers={
                    **cors,
                    "Access-Control-Allow-Methods": ALLOW_METHODS,
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": "600",
                },
            )
        try:
            response = await handler(request)
        except Unauthorized as exc:
            response = error(401, exc.message, {"WWW-Authenticate": REALM})
        except ApiError as exc:
            response = error(exc.status, exc.message, exc.headers)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            # RFC 9110 §15.5.6: a 405 names the methods the resource does support.
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            response = error(exc.status, exc.reason, allow)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("http_handler_failed path=%s", request.path)
            response = error(500, f"internal error: {type(exc).__name__}")
        response.headers.update(cors)
        return response

    return handle


def guarded(server: Server, route: Route, caller: Caller = authenticate) -> Handler:
    """``route.handler`` behind admin authentication (when the route asks for it)."""
    if not route.auth:
        return route.handler

    async def handle(request: web.Request) -> web.StreamResponse:
        principal = await caller(server, request)
        principal.require(route.needs)
        CALLER.set(principal.name)
        return await route.handler(request)

    return handle


def as_loopback(handler: Handler) -> Handler:
    """A UNIX socket peer has no address; the metrics allow-list sees it as loopback."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(request.clone(remote="127.0.0.1"))

    return handle


def build_app(server: Server, scripts: ScriptManager, caller: Caller = authenticate) -> web.Application:
    """The HTTP application; ``caller`` names who is calling (API key or admin JID, or the local principal)."""
    local = caller is admin_socket.local_caller
    app = web.Application(middlewares=[middleware(server)], client_max_size=MAX_BODY)
    app[SERVER_KEY] = server
    app[READY_KEY] = {"ready": False}
    app[SCRIPTS_KEY] = scripts
    for route in all_routes():
        app.router.add_route(route.method, route.path, guarded(server, route, caller))
    metrics = metrics_handler(server)
    app.router.add_get("/metrics", as_loopback(metrics) if local else metrics)
    read, bulk = jolokia.handlers(server)
    if local:
        read, bulk = as_loopback(read), as_loopback(bulk)
    app.router.add_get("/jolokia", read)
    app.router.add_get("/jolokia/{tail:.*}", read)
    app.router.add_post("/jolokia", bulk)
    app.router.add_post("/jolokia/", bulk)
    return app
