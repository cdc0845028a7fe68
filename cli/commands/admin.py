"""``tigase-py admin <operation>``: every admin operation of ``server/admin``, one subcommand each, with
arguments and options derived from the operation's declaration (a positional parameter is an argument,
every other one ``--name``; a multi-valued one repeats; a required password is prompted).

    tigase-py admin add-user alice@example.com --password secret
    tigase-py admin get-registered-users-num --vhost example.com --json

The subcommands are built when ``admin`` is invoked, so ``tigase-py --help`` does not import the server.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from tigase_py.cli import admin_door, console, context, errors, local_admin

if TYPE_CHECKING:
    from tigase_py.server.admin.operation import Operation, Param


def operations() -> dict[str, Operation]:
    """The builtin operations, and those the running server offers besides (its features' and scripts')."""
    from tigase_py.server.admin import builtin_operations

    found = {operation.name: operation for operation in builtin_operations()}
    for listed in served_operations():
        found.setdefault(listed.name, listed)
    return found


def served_operations() -> list[Operation]:
    """The operations the running server lists (``GET /api/v1/commands``), as declarations to build
    subcommands from; they run through its admin socket. None without a config or a running server."""
    from tigase_py.server.admin.operation import Operation, Param
    from tigase_py.server.config.errors import ConfigError

    try:
        local = local_admin.serving(context.load())
        status, document = local_admin.request(local, "GET", "/api/v1/commands") if local else (0, None)
    except (ConfigError, errors.CliError):
        return []
    if status != 200 or not isinstance(document, dict):
        return []

    async def remote(*_: Any) -> Any:
        raise RuntimeError("runs in the server")

    return [
        Operation(
            c["name"], c["title"], c["description"], remote, source=c["source"], live_only=True,
            params=tuple(
                Param(p["name"], p["type"], p["label"], p["required"], tuple(p.get("choices") or ()),
                      p.get("default"), positional=bool(p.get("positional")))
                for p in c["params"]
            ),
        )
        for c in document.get("commands", [])
    ]  # fmt: skip


def annotation(param: Param) -> Any:
    """The typer annotation of one parameter: its CLI shape comes from its declaration alone."""
    help_text = param.label + (f" (one of: {', '.join(param.choices)})" if param.choices else "")
    kind: Any = list[str] if param.is_multi else (bool if param.type == "boolean" else str)
    if param.positional:
        return Annotated[kind, typer.Argument(metavar=param.name.upper(), help=help_text, show_default=False)]
    secret = param.type == "text-private" and param.required
    option = typer.Option(param.cli_flag, help=help_text, prompt=secret, hide_input=secret, confirmation_prompt=secret)
    return Annotated[kind if param.required else kind | None, option]


def show(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.emit_json(document)
        return
    if document.get("note"):
        console.success(str(document["note"]))
    values = document.get("values") or {}
    if values:
        console.table(("name", "value"), [(key, _text(value)) for key, value in values.items()])
    rows = document.get("rows") or []
    if rows:
        columns = list(dict.fromkeys(key for row in rows for key in row))
        console.table(columns, [[_text(row.get(column)) for column in columns] for row in rows])


def _text(value: object) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else "" if value is None else str(value)


def command_for(operation: Operation) -> Callable[..., None]:
    names = {f"arg{index}": param for index, param in enumerate(operation.params)}

    def run(**given: Any) -> None:
        as_json = given.pop("as_json")
        args = {names[key].name: value for key, value in given.items() if value not in (None, [], ())}
        show(admin_door.run(context.load(), operation.name, args), as_json)

    parameters = [
        inspect.Parameter(
            key,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=annotation(param),
            **({} if param.required else {"default": None}),
        )
        for key, param in sorted(names.items(), key=lambda item: not item[1].required)
    ]
    json_flag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
    parameters.append(inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, annotation=json_flag, default=False))
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    run.__doc__ = f"{operation.title}: {operation.description}."
    return run


class OperationGroup(TyperGroup):
    """Lists and builds the subcommands from the operation declarations on demand."""

    def known(self, ctx: Any) -> dict[str, Operation]:
        found: dict[str, Operation] = ctx.meta.get("tigase_py.operations") or operations()
        ctx.meta["tigase_py.operations"] = found
        return found

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(self.known(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        operation = self.known(ctx).get(cmd_name)
        if operation is None:
            return None
        single = typer.Typer(add_completion=False)
        single.command(operation.name)(command_for(operation))
        return typer.main.get_command(single)


app = typer.Typer(
    cls=OperationGroup,
    no_args_is_help=True,
    help="Run any admin operation (the ones REST and XEP-0133 offer), through the running server or on storage.",
)
