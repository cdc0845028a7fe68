"""The admin REST endpoints under /api/v1: health, readiness, statistics, vhosts, users, sessions and
messages. Handlers take the request and return JSON; refusals raise ``ApiError``."""

from __future__ import annotations

import math
import os
import time
import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from tigase_py.server import __version__
from tigase_py.server import jid as jids
from tigase_py.server.http_api.table import (
    ANY_JID,
    BARE_JID,
    DOMAIN,
    ERROR,
    OK,
    STRING,
    TEXT,
    ApiError,
    QueryParam,
    Route,
    array,
    body_of,
    obj,
    reply,
    text_field,
)
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

SERVER_KEY = web.AppKey("server", object)
READY_KEY = web.AppKey("ready", dict)

KICK_CONDITION = "policy-violation"
KICK_TEXT = "terminated by an administrator"
MESSAGE_TYPES = ("normal", "chat", "headline")

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
VHOSTS = obj(("vhosts",), vhosts=array(STRING))
USERS = obj(("users",), users=array(STRING))
SESSION = obj(
    ("jid", "resource", "priority", "available", "peer", "secure"),
    jid=STRING,
    resource=STRING,
    priority={"type": "integer"},
    available={"type": "boolean"},
    peer=STRING,
    secure={"type": "boolean"},
)
SESSIONS = obj(("sessions",), sessions=array(SESSION))
DELIVERED = obj(("delivered",), delivered={"type": "integer"})


def server_of(request: web.Request) -> Server:
    return request.app[SERVER_KEY]  # type: ignore[return-value]


def uptime(server: Server) -> float:
    return round(time.time() - server.started_at, 3)


def domain_arg(text: str) -> str:
    try:
        address = jids.parse(text)
    except (jids.JidError, ValueError) as exc:
        raise ApiError(400, f"invalid domain {text!r}: {exc}") from exc
    if not address.is_domain:
        raise ApiError(400, f"{text!r} is not a bare domain")
    return address.domain


def account_arg(server: Server, text: str, status: int = 400) -> jids.Jid:
    """A bare account JID on a served vhost (``status`` when it is malformed)."""
    try:
        address = jids.parse(text)
    except (jids.JidError, ValueError) as exc:
        raise ApiError(status, f"invalid JID {text!r}: {exc}") from exc
    if not address.local or address.resource:
        raise ApiError(status, f"{text!r} is not a bare user JID")
    if address.domain not in server.vhosts:
        raise ApiError(status, f"{address.domain} is not served here")
    return address


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


# -- vhosts ----------------------------------------------------------------
async def list_vhosts(request: web.Request) -> web.Response:
    return reply({"vhosts": sorted(server_of(request).vhosts)})


async def add_vhost(request: web.Request) -> web.Response:
    server = server_of(request)
    vhost = domain_arg(text_field(await body_of(request), "vhost"))
    if vhost in server.vhosts or not await server.storage.vhosts.add(vhost):
        raise ApiError(409, f"{vhost} is already served")
    await server.sync_vhosts()
    return reply({"result": f"{vhost} added"}, 201)


async def remove_vhost(request: web.Request) -> web.Response:
    server = server_of(request)
    vhost = request.match_info["vhost"]
    try:
        vhost = jids.prep_domain(vhost)
    except (jids.JidError, ValueError) as exc:
        raise ApiError(404, f"no vhost {vhost!r}") from exc
    if not await server.storage.vhosts.remove(vhost):
        if vhost in server.config.server.vhosts:
            raise ApiError(409, f"{vhost} is configured in the config file; remove it there")
        raise ApiError(404, f"no vhost {vhost!r}")
    await server.sync_vhosts()
    return reply({"result": f"{vhost} removed"})


# -- users -----------------------------------------------------------------
async def list_users(request: web.Request) -> web.Response:
    vhost = request.query.get("vhost") or None
    return reply({"users": await server_of(request).storage.users.list(vhost)})


async def add_user(request: web.Request) -> web.Response:
    server = server_of(request)
    data = await body_of(request)
    address = account_arg(server, text_field(data, "jid"))
    password = text_field(data, "password")
    if await server.storage.users.exists(address.local, address.domain):
        raise ApiError(409, f"{address.bare_str} already exists")
    try:
        await server.storage.users.create(address.local, address.domain, password)
    except UserExists as exc:
        raise ApiError(409, str(exc)) from exc
    await server.bus.fire("user.created", address.domain, owner=address.bare_str)
    return reply({"result": f"{address.bare_str} created"}, 201)


async def delete_user(request: web.Request) -> web.Response:
    server = server_of(request)
    address = account_arg(server, request.match_info["jid"], status=404)
    if not await server.storage.users.delete(address.local, address.domain):
        raise ApiError(404, f"no user {address.bare_str}")
    await server.bus.fire("user.deleted", address.domain, owner=address.bare_str)
    for session in server.sessions.resources(address.bare_str):
        session.writer.close_with_error("not-authorized", "the account was deleted by an administrator")
    return reply({"result": f"{address.bare_str} deleted"})


async def set_password(request: web.Request) -> web.Response:
    server = server_of(request)
    address = account_arg(server, request.match_info["jid"], status=404)
    password = text_field(await body_of(request), "password")
    try:
        await server.storage.users.set_password(address.local, address.domain, password)
    except UserNotFound as exc:
        raise ApiError(404, f"no user {address.bare_str}") from exc
    return reply({"result": f"password of {address.bare_str} changed"})


# -- sessions --------------------------------------------------------------
async def list_sessions(request: web.Request) -> web.Response:
    sessions = [
        {
            "jid": s.full,
            "resource": s.jid.resource,
            "priority": s.priority,
            "available": s.available,
            "peer": s.peer,
            "secure": s.secure,
        }
        for s in sorted(server_of(request).sessions.all(), key=lambda s: s.full)
    ]
    return reply({"sessions": sessions})


async def kick_session(request: web.Request) -> web.Response:
    server = server_of(request)
    text = request.match_info["full_jid"]
    address = jids.try_parse(text) if "\x00" not in text else None
    session = server.sessions.get(address) if address is not None and address.resource else None
    if session is None:
        raise ApiError(404, f"no session {text!r}")
    session.writer.close_with_error(KICK_CONDITION, KICK_TEXT)
    return reply({"result": f"{session.full} disconnected"})


# -- messages --------------------------------------------------------------
def message(sender: str, to: str, body: str, kind: str) -> Element:
    stanza = Element("message", {"from": sender, "to": to, "type": kind, "id": uuid.uuid4().hex})
    stanza.add("body", text=body)
    return stanza


async def send_message(request: web.Request) -> web.Response:
    server = server_of(request)
    data = await body_of(request)
    body = text_field(data, "body")
    kind = text_field(data, "type", required=False, default="chat")
    if kind not in MESSAGE_TYPES:
        raise ApiError(400, f"type must be one of {', '.join(MESSAGE_TYPES)}")
    to_text = text_field(data, "to")
    try:
        to = jids.parse(to_text)
    except (jids.JidError, ValueError) as exc:
        raise ApiError(400, f"invalid JID {to_text!r}: {exc}") from exc
    if to.domain not in server.vhosts or not to.local:
        raise ApiError(400, f"{to} is not a user of a vhost served here")
    await server.router.deliver(message(to.domain, str(to), body, kind))
    return reply({"result": f"message sent to {to}"}, 202)


async def broadcast(request: web.Request) -> web.Response:
    server = server_of(request)
    data = await body_of(request)
    body = text_field(data, "body")
    vhost = text_field(data, "vhost", required=False) or None
    if vhost is not None and vhost not in server.vhosts:
        raise ApiError(404, f"no vhost {vhost!r}")
    sessions = server.sessions.in_domain(vhost) if vhost else server.sessions.all()
    for session in sessions:
        session.send(message(session.vhost, session.full, body, "headline"))
    return reply({"delivered": len(sessions)})


def routes() -> list[Route]:
    e = ERROR
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
        Route("GET", "/api/v1/vhosts", list_vhosts, "listVhosts", "Served vhosts", "vhosts", {200: VHOSTS}),
        Route(
            "POST",
            "/api/v1/vhosts",
            add_vhost,
            "addVhost",
            "Serve a new vhost",
            "vhosts",
            {201: OK, 400: e, 409: e},
            body=obj(("vhost",), vhost=DOMAIN),
        ),
        Route(
            "DELETE",
            "/api/v1/vhosts/{vhost}",
            remove_vhost,
            "removeVhost",
            "Stop serving a vhost",
            "vhosts",
            {200: OK, 404: e, 409: e},
        ),
        Route(
            "GET",
            "/api/v1/users",
            list_users,
            "listUsers",
            "Registered accounts",
            "users",
            {200: USERS},
            query=(QueryParam("vhost", "only accounts of this vhost"),),
        ),
        Route(
            "POST",
            "/api/v1/users",
            add_user,
            "addUser",
            "Create an account",
            "users",
            {201: OK, 400: e, 409: e},
            body=obj(("jid", "password"), jid=BARE_JID, password=TEXT),
        ),
        Route(
            "DELETE",
            "/api/v1/users/{jid}",
            delete_user,
            "deleteUser",
            "Delete an account and its sessions",
            "users",
            {200: OK, 404: e},
        ),
        Route(
            "PUT",
            "/api/v1/users/{jid}/password",
            set_password,
            "setPassword",
            "Change a password",
            "users",
            {200: OK, 400: e, 404: e},
            body=obj(("password",), password=TEXT),
        ),
        Route("GET", "/api/v1/sessions", list_sessions, "listSessions", "Bound sessions", "sessions", {200: SESSIONS}),
        Route(
            "DELETE",
            "/api/v1/sessions/{full_jid:.+}",
            kick_session,
            "kickSession",
            "Disconnect a session (stream error policy-violation)",
            "sessions",
            {200: OK, 404: e},
        ),
        Route(
            "POST",
            "/api/v1/messages",
            send_message,
            "sendMessage",
            "Send a message from the vhost",
            "messages",
            {202: OK, 400: e},
            body=obj(("to", "body"), to=ANY_JID, body=TEXT, type={"type": "string", "enum": list(MESSAGE_TYPES)}),
        ),
        Route(
            "POST",
            "/api/v1/broadcast",
            broadcast,
            "broadcast",
            "Headline to every bound session",
            "messages",
            {200: DELIVERED, 400: e, 404: e},
            body=obj(("body",), body=TEXT, vhost=DOMAIN),
        ),
    ]
