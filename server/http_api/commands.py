"""Admin commands and runtime scripts over REST: ``/api/v1/commands`` runs anything in the command
registry (built-in or script), ``/api/v1/scripts`` lists, uploads and removes scripts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tigase_py.server.core.scripts import ScriptError, ScriptManager
from tigase_py.server.http_api.operations import execute
from tigase_py.server.http_api.rest import server_of
from tigase_py.server.http_api.table import (
    BOOLEAN,
    ERROR,
    OK,
    STRING,
    TEXT,
    ApiError,
    Route,
    array,
    body_of,
    obj,
    reply,
    text_field,
)

SCRIPTS_KEY = web.AppKey("scripts", ScriptManager)

PARAM = obj(
    ("name", "type", "label", "required"),
    **dict.fromkeys(("name", "type", "label"), STRING),
    **dict.fromkeys(("required", "positional"), BOOLEAN),
    choices=array(STRING),
    default={"type": ["string", "null"]},
)
COMMAND = obj(
    ("name", "title", "description", "node", "admin_only", "source", "params"),
    **dict.fromkeys(("name", "title", "description", "node", "source", "scope"), STRING),
    **dict.fromkeys(("admin_only", "live_only"), BOOLEAN),
    **dict.fromkeys(("returns", "columns"), array(STRING)),
    params=array(PARAM),
)
COMMANDS = obj(("commands",), commands=array(COMMAND))
RESULT = obj(("note", "values", "rows"), note=STRING, values={"type": "object"}, rows=array({"type": "object"}))
SCRIPT = obj(("file", "loaded"), file=STRING, loaded=BOOLEAN, command=STRING, error=STRING)
SCRIPTS = obj(("scripts",), scripts=array(SCRIPT))


PARAM_FIELDS = ("name", "type", "label", "required", "choices", "default", "positional")
COMMAND_FIELDS = ("name", "title", "description", "admin_only", "source", "scope", "live_only", "returns", "columns")


def described(item: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a declaration as JSON values (tuples become lists)."""
    found = {name: getattr(item, name) for name in fields}
    return {name: list(value) if isinstance(value, tuple) else value for name, value in found.items()}


async def list_commands(request: web.Request) -> web.Response:
    commands = [
        {
            **described(c, COMMAND_FIELDS),
            "node": c.xmpp_node,
            "params": [described(p, PARAM_FIELDS) for p in c.params],
        }
        for c in server_of(request).commands.all()
    ]
    return reply({"commands": commands})


async def run_command(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if server_of(request).commands.get(name) is None:
        raise ApiError(404, f"no command {name!r}")
    args = await body_of(request) if request.can_read_body else {}
    vhost = args.get("vhost") if isinstance(args.get("vhost"), str) else None
    return reply((await execute(request, name, args, vhost)).to_json())


def manager(request: web.Request) -> ScriptManager:
    return request.app[SCRIPTS_KEY]


async def list_scripts(request: web.Request) -> web.Response:
    await manager(request).scan()
    return reply({"scripts": manager(request).status()})


UPLOAD_DISABLED = (
    "script upload is disabled: it runs code as the server user; set [http] scripts_upload = true to "
    'allow it for API keys with the "scripts" scope (files in scripts_dir load either way)'
)


def require_upload(request: web.Request) -> None:
    if not server_of(request).config.http.scripts_upload:
        raise ApiError(403, UPLOAD_DISABLED)


async def upload_script(request: web.Request) -> web.Response:
    require_upload(request)
    data = await body_of(request)
    name = text_field(data, "name")
    source = text_field(data, "source", required=False)
    try:
        status = await manager(request).write(name, source)
    except ScriptError as exc:
        raise ApiError(400, str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise ApiError(400, f"cannot write {name}: {exc}") from exc
    return reply(status, 201 if status["loaded"] else 400)


async def delete_script(request: web.Request) -> web.Response:
    require_upload(request)
    name = request.match_info["name"]
    try:
        await manager(request).delete(name)
    except ScriptError as exc:
        raise ApiError(404, str(exc)) from exc
    return reply({"result": f"{name} removed"})


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/api/v1/commands",
            list_commands,
            "listCommands",
            "Admin commands (built-in and scripts)",
            "commands",
            {200: COMMANDS},
        ),
        Route(
            "POST",
            "/api/v1/commands/{name}",
            run_command,
            "runCommand",
            "Run an admin command",
            "commands",
            {200: RESULT, 400: ERROR, 404: ERROR, 500: ERROR},
            body={"type": "object"},
        ),
        Route(
            "GET",
            "/api/v1/scripts",
            list_scripts,
            "listScripts",
            "Runtime scripts and their load status",
            "scripts",
            {200: SCRIPTS},
        ),
        Route(
            "POST",
            "/api/v1/scripts",
            upload_script,
            "uploadScript",
            "Write a script and load it now",
            "scripts",
            {201: SCRIPT, 400: {"oneOf": [SCRIPT, ERROR]}, 403: ERROR},
            body=obj(("name", "source"), name=TEXT, source=STRING),
            scope="scripts",
        ),
        Route(
            "DELETE",
            "/api/v1/scripts/{name}",
            delete_script,
            "deleteScript",
            "Remove a script and its command",
            "scripts",
            {200: OK, 403: ERROR, 404: ERROR},
            scope="scripts",
        ),
    ]
