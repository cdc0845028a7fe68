"""The REST door of the admin layer: each operation with a :class:`~tigase_py.server.admin.operation.Rest`
binding becomes a route (``POST /api/v1/users`` → ``add-user``) whose path, query and body fields are the
operation's parameters; ``POST /api/v1/commands/<name>`` runs any operation (``commands.py``). Refusals
become ``{"error": ...}`` with the status of their condition (the route may differ, e.g. 404 for a JID in
the path)."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from aiohttp import web

from tigase_py.server.admin import builtin_operations
from tigase_py.server.admin.live import deps_of
from tigase_py.server.admin.operation import AdminError, Call, Operation, Param, Rest, Result
from tigase_py.server.http_api.rest import server_of
from tigase_py.server.http_api.table import (
    ERROR,
    OK,
    STRING,
    TEXT,
    ApiError,
    Handler,
    QueryParam,
    Route,
    Schema,
    body_of,
    obj,
    path_names,
    reply,
    text_field,
)

log = logging.getLogger("tigase_py.http_api")

CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("tigase_py_http_caller", default="")
STATUS_OF = {
    "bad-request": 400,
    "jid-malformed": 400,
    "not-acceptable": 400,
    "forbidden": 403,
    "item-not-found": 404,
    "not-allowed": 403,
    "conflict": 409,
    "service-unavailable": 503,
}
ERROR_STATUSES = (400, 404, 409)


async def execute(request: web.Request, name: str, args: dict[str, Any], vhost: str | None,
                  errors: dict[str, int] | None = None) -> Result:  # fmt: skip
    """Run operation ``name`` as the authenticated caller; refusals become ``ApiError``."""
    server = server_of(request)
    try:
        return await server.commands.execute(name, Call(deps_of(server), CALLER.get(), vhost), args)
    except AdminError as exc:
        status = (errors or {}).get(exc.condition) or STATUS_OF.get(exc.condition, 500)
        raise ApiError(status, str(exc)) from exc
    except Exception as exc:
        log.exception("command_failed name=%s", name)
        raise ApiError(500, f"command {name} failed: {type(exc).__name__}: {exc}") from exc


def body_params(operation: Operation, rest: Rest, path: list[str]) -> list[Param]:
    """The parameters a POST or PUT route takes from its JSON body (GET and DELETE have none)."""
    if rest.method not in ("POST", "PUT"):
        return []
    taken = {*path, *rest.query}
    return [p for p in operation.params if p.rest_name not in taken]


def field_schema(rest: Rest, param: Param) -> Schema:
    if param.rest_name in rest.json:
        return {"$ref": f"#/components/schemas/{rest.json[param.rest_name]}"}
    if param.choices:
        return {"type": "string", "enum": list(param.choices)}
    return TEXT if param.required else STRING


def handler(operation: Operation, rest: Rest, path: list[str]) -> Handler:
    by_rest = {p.rest_name: p.name for p in operation.params}
    in_body = body_params(operation, rest, path)

    async def handle(request: web.Request) -> web.Response:
        args: dict[str, Any] = {}
        for name in path:
            args[by_rest[name]] = request.match_info[name]
        for name in rest.query:
            if request.query.get(name):
                args[by_rest[name]] = request.query[name]
        if in_body:
            data = await body_of(request)
            for param in in_body:
                value = text_field(data, param.rest_name, required=param.required)
                if value:
                    args[param.name] = value
        result = await execute(request, operation.name, args, None, rest.errors)
        return reply(rest.answer(result), rest.status)

    return handle


def route(operation: Operation, rest: Rest) -> Route:
    path = path_names(rest.path)
    body = body_params(operation, rest, path)
    labels = {p.rest_name: p.label for p in operation.params}
    responses: dict[int, Schema] = {rest.status: rest.response or OK}
    for status in (*ERROR_STATUSES, *rest.errors.values()):
        responses.setdefault(status, ERROR)
    return Route(
        rest.method,
        rest.path,
        handler(operation, rest, path),
        rest.operation_id,
        operation.description,
        rest.tag,
        responses,
        scope=operation.scope,
        body=obj(tuple(p.rest_name for p in body if p.required), **{p.rest_name: field_schema(rest, p) for p in body})
        if body
        else None,
        query=tuple(QueryParam(name, labels.get(name, name)) for name in rest.query),
        path_docs={name: labels.get(name, name) for name in path},
    )


def routes() -> list[Route]:
    """The routes of the builtin operations that declare one (in declaration order)."""
    return [route(op, op.rest) for op in builtin_operations() if op.rest is not None]


__all__ = ["CALLER", "STATUS_OF", "execute", "routes"]
