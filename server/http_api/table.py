"""The REST route table: one declaration per endpoint, read both by the aiohttp router and by the
OpenAPI generator, so the served API and its document cannot drift apart.

    Route("DELETE", "/api/v1/vhosts/{vhost}", remove_vhost, "removeVhost", "Stop serving a vhost",
          tag="vhosts", responses={200: OK, 404: ERROR, 409: ERROR})
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
TEXT: Schema = {"type": "string", "minLength": 1}  # a string that must not be empty
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
ERROR: Schema = {"type": "object", "required": ["error"], "properties": {"error": STRING}}
OK: Schema = {"type": "object", "required": ["result"], "properties": {"result": STRING}}
# JIDs (RFC 7622), described once in the OpenAPI document's components and referenced from routes.
BARE_JID: Schema = {"$ref": "#/components/schemas/BareJid"}
FULL_JID: Schema = {"$ref": "#/components/schemas/FullJid"}
ANY_JID: Schema = {"$ref": "#/components/schemas/Jid"}
DOMAIN: Schema = {"$ref": "#/components/schemas/Domain"}

_PARAM = re.compile(r"\{([a-z_]+)(?::[^}]*)?\}")


def path_names(path: str) -> list[str]:
    """The parameters named in an aiohttp path (``{name}`` or ``{name:regex}``)."""
    return _PARAM.findall(path)


def obj(needed: tuple[str, ...] = (), /, **properties: Schema) -> Schema:
    """A JSON object schema; ``needed`` names the properties that must be present."""
    schema: Schema = {"type": "object", "properties": properties}
    if needed:
        schema["required"] = list(needed)
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # aiohttp form; "{name:regex}" renders as "{name}" in OpenAPI
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, Schema]
    auth: bool = True
    scope: str | None = None  # the caller must hold it; None: "read" for GET, "admin" otherwise

    @property
    def needs(self) -> str:
        return self.scope or ("read" if self.method == "GET" else "admin")

    body: Schema | None = None
    query: tuple[QueryParam, ...] = ()
    path_docs: dict[str, str] = field(default_factory=dict)

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)

    @property
    def path_params(self) -> list[str]:
        return path_names(self.path)


class ApiError(Exception):
    """Raised by handlers; rendered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def reply(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda value: json.dumps(value, allow_nan=False))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    response = reply({"error": message}, status)
    if headers:
        response.headers.update(headers)
    return response


async def body_of(request: web.Request) -> dict[str, Any]:
    """The JSON object body of ``request``; 400 when it is absent, not JSON or not an object."""
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body must be a JSON object ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, required: bool = True, default: str = "") -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"field {name!r} is required")
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"field {name!r} must be a string")
    if required and not value:
        raise ApiError(400, f"field {name!r} must not be empty")
    return value
