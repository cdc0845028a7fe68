"""Administrative commands, declared once and offered through every door: the REST API
(``POST /api/v1/commands/<name>``), XEP-0050 ad-hoc commands (node = name) and runtime admin scripts.

    commands.register(Command(
        name="add-user", title="Add a user", description="Create an account",
        params=(Param("jid", "jid-single", "The new account", required=True),
                Param("password", "text-private", "Password", required=True)),
        run=add_user,
    ))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

# XEP-0004 field types a parameter may take; the same names are used in the REST schema.
# Callers with every admin permission: an API key, or whoever could open the admin socket.
TRUSTED_CALLERS = ("api-key:", "local:")
PARAM_TYPES = ("text-single", "text-private", "text-multi", "jid-single", "jid-multi", "boolean", "list-single")


class CommandError(Exception):
    """A command refused its input or failed; ``condition`` is the XMPP stanza condition to report."""

    def __init__(self, message: str, condition: str = "bad-request") -> None:
        super().__init__(message)
        self.condition = condition


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name}: unknown type {self.type!r}")


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command answers: a note, and optionally named values and/or a table."""

    note: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"note": self.note, "values": self.values, "rows": self.rows}


@dataclass(frozen=True, slots=True)
class CommandContext:
    server: Server
    caller: str  # bare JID, "api-key:<name>" or "local:uid=<n>" (the admin socket)
    vhost: str | None


Runner = Callable[[CommandContext, dict[str, Any]], Awaitable[CommandResult]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    title: str
    description: str
    run: Runner
    params: tuple[Param, ...] = ()
    admin_only: bool = True
    node: str | None = None  # the XEP-0050 node, when it must differ from the name (XEP-0133 URIs)
    source: str = "builtin"

    @property
    def xmpp_node(self) -> str:
        return self.node or self.name

    def check(self, args: dict[str, Any]) -> dict[str, Any]:
        """Validate and complete ``args`` against the declared parameters."""
        known = {p.name: p for p in self.params}
        for key in args:
            if key not in known:
                raise CommandError(f"unknown parameter {key!r}")
        checked: dict[str, Any] = {}
        for param in self.params:
            value = args.get(param.name, param.default)
            if value in (None, "", []):
                if param.required:
                    raise CommandError(f"parameter {param.name!r} is required")
                continue
            if param.type == "boolean" and not isinstance(value, bool):
                value = str(value).lower() in ("1", "true", "yes")
            if param.type in ("jid-multi", "text-multi") and isinstance(value, str):
                value = [line for line in value.splitlines() if line.strip()]
            if param.choices and value not in param.choices:
                raise CommandError(f"parameter {param.name!r} must be one of {', '.join(param.choices)}")
            checked[param.name] = value
        return checked


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, command: Command) -> Callable[[], None]:
        if command.name in self._commands:
            raise ValueError(f"command {command.name!r} already registered")
        self._commands[command.name] = command

        def undo() -> None:
            if self._commands.get(command.name) is command:
                del self._commands[command.name]

        return undo

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def by_node(self, node: str) -> Command | None:
        for command in self._commands.values():
            if command.xmpp_node == node:
                return command
        return None

    def all(self) -> list[Command]:
        return sorted(self._commands.values(), key=lambda c: c.name)

    async def execute(self, name: str, ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
        command = self._commands.get(name)
        if command is None:
            raise CommandError(f"no command {name!r}", "item-not-found")
        if command.admin_only and not (ctx.caller.startswith(TRUSTED_CALLERS) or ctx.server.is_admin(ctx.caller)):
            raise CommandError("administrators only", "forbidden")
        return await command.run(ctx, command.check(args))
