"""The OpenAPI 3.1 document of /api/v1, generated from the same route table the router mounts.

JIDs are described once (``components.schemas``: BareJid, FullJid, Jid, Domain) with a pattern, a
length bound and examples; the admin commands' parameters come from the live command registry (built-in
commands and loaded scripts), one schema each (``Command.<name>``), offered as the body of runCommand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tigase_py.server import __version__
from tigase_py.server.http_api.table import BARE_JID, DOMAIN, ERROR, FULL_JID, STRING, Route, Schema

if TYPE_CHECKING:
    from tigase_py.server.core.commands import Command, Param

SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}, {"basic": []}]
DESCRIPTION = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Invalid request",
    401: "Authentication required",
    403: "Not an administrator, or the API key lacks the scope",
    404: "Not found",
    409: "Conflict",
    429: "Too many failed logins from this address (see Retry-After)",
    500: "The command failed",
    503: "Not available",
}


# RFC 7622: localpart@domainpart/resourcepart; the localpart excludes "&'/:<>@ and spaces, each part is
# at most 1023 bytes. The server applies the full PRECIS rules; the patterns document the shape.
LOCAL = r"[^\"&'/:<>@\s]+"
DOMAIN_PART = r"[^@/\s]+"
JID_SCHEMAS: dict[str, Schema] = {
    "BareJid": {
        "type": "string",
        "format": "jid",
        "pattern": f"^{LOCAL}@{DOMAIN_PART}$",
        "description": "A bare JID (RFC 7622) of an account: localpart@domainpart, no resource; "
        "each part at most 1023 bytes.",
        "examples": ["alice@example.org", "ünïcode@example.org"],
    },
    "FullJid": {
        "type": "string",
        "format": "jid",
        "pattern": f"^{LOCAL}@{DOMAIN_PART}/.+$",
        "description": "A full JID (RFC 7622) of one session: localpart@domainpart/resourcepart. In a path, "
        "the resource may contain '/' and must be percent-encoded as any path segment.",
        "examples": ["alice@example.org/phone", "alice@example.org/laptop/work"],
    },
    "Jid": {
        "type": "string",
        "format": "jid",
        "pattern": f"^({LOCAL}@)?{DOMAIN_PART}(/.+)?$",
        "description": "Any JID (RFC 7622): a domain, a bare JID or a full JID.",
        "examples": ["alice@example.org", "alice@example.org/phone", "example.org"],
    },
    "Domain": {
        "type": "string",
        "format": "idn-hostname",
        "pattern": f"^{DOMAIN_PART}$",
        "description": "A domainpart (RFC 7622 §3.2): a virtual host name, internationalised names allowed.",
        "examples": ["example.org", "chat.example.org"],
    },
}
PATH_SCHEMAS: dict[str, Schema] = {"jid": BARE_JID, "full_jid": FULL_JID, "vhost": DOMAIN}
JID_REF = {"$ref": "#/components/schemas/Jid"}


def param_schema(param: Param) -> Schema:
    """The JSON schema of one command parameter (XEP-0004 field type → JSON)."""
    lines_or_list = {"type": ["string", "array"], "items": STRING}
    schema: Schema
    if param.type == "boolean":
        schema = {"type": ["boolean", "string"], "description": 'true/false, or "1"/"true"/"yes"'}
    elif param.type == "jid-single":
        schema = {"allOf": [JID_REF]}
    elif param.type == "jid-multi":
        schema = {"type": ["array", "string"], "items": JID_REF, "description": "JIDs: a list, or one per line"}
    elif param.type == "text-multi":
        schema = {**lines_or_list, "description": "lines: a list, or one string with newlines"}
    elif param.type == "list-single" and param.choices:
        schema = {"type": "string", "enum": list(param.choices)}
    else:
        schema = {"type": "string"}
        if param.type == "text-private":
            schema["writeOnly"] = True
    schema["title"] = param.label
    if param.default is not None:
        schema["default"] = param.default
    return schema


def command_schema(command: Command) -> Schema:
    schema: Schema = {
        "title": command.name,
        "description": f"{command.title}: {command.description}",
        "type": "object",
        "properties": {param.name: param_schema(param) for param in command.params},
        "additionalProperties": False,
    }
    required = [param.name for param in command.params if param.required]
    if required:
        schema["required"] = required
    return schema


def command_list(commands: list[Command]) -> str:
    lines = ["The body holds the command's parameters (unknown ones are refused):", ""]
    for command in commands:
        params = ", ".join(f"`{p.name}`{'*' if p.required else ''} ({p.type})" for p in command.params)
        lines.append(f"- `{command.name}`: {command.title}. {params or 'no parameters'}")
    lines += ["", "`*` = required. Each command's schema is `#/components/schemas/Command.<name>`."]
    return "\n".join(lines)


def _json(schema: Schema) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def operation(route: Route) -> dict[str, Any]:
    responses = dict(route.responses)
    if route.body is not None or route.query:
        responses.setdefault(400, ERROR)
    if route.auth:
        responses.setdefault(401, ERROR)
        responses.setdefault(403, ERROR)
        responses.setdefault(429, ERROR)
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "responses": {
            str(status): {"description": DESCRIPTION.get(status, "Response"), **_json(schema)}
            for status, schema in sorted(responses.items())
        },
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1}),
            "description": route.path_docs.get(name, name),
        }
        for name in route.path_params
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": {"type": "string"},
            "description": q.description,
        }
        for q in route.query
    ]
    if parameters:
        op["parameters"] = parameters
    if route.body is not None:
        op["requestBody"] = {"required": True, **_json(route.body)}
    op["security"] = SECURITY if route.auth else []
    if route.auth:
        op["x-scope"] = route.needs  # the API key scope this operation needs
    return op


def document(routes: list[Route], commands: Iterable[Command] = ()) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Schema] = dict(JID_SCHEMAS)
    listed = list(commands)
    for route in routes:
        op = operation(route)
        if route.operation_id == "runCommand" and listed:
            for command in listed:
                schemas[f"Command.{command.name}"] = command_schema(command)
            refs = [{"$ref": f"#/components/schemas/Command.{command.name}"} for command in listed]
            op["requestBody"] = {"required": False, **_json({"anyOf": refs})}
            op["description"] = command_list(listed)
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "tigase-py admin API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic", "description": "an administrator's JID and password"},
            },
        },
    }
