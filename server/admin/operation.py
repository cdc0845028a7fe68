"""One admin operation, declared once: its parameters, permission, REST route and handler.

    Operation(
        "add-user", "Add a User", "Create an account", add_user,
        params=(Param("accountjid", "jid-single", "The Jabber ID", required=True, rest="jid", positional=True),
                Param("password", "text-private", "Password", required=True)),
        node=ADMIN_NODE + "add-user",
        returns=("jid",),
        rest=Rest("POST", "/api/v1/users", "addUser", "users", status=201),
    )

Each parameter is at once an XEP-0004 form field (``name``, ``type``, ``label``), a JSON field of the
REST route (``rest``, default ``name``; a path parameter when the route's path names it) and a CLI
option (``--name``, or an argument when ``positional``). The handler gets a :class:`Call` with narrow
dependencies (:class:`~tigase_py.server.admin.deps.AdminDeps`) and the checked arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tigase_py.server.admin.deps import AdminDeps

# XEP-0004 field types a parameter may take; the same names are used in the REST schema.
PARAM_TYPES = ("text-single", "text-private", "text-multi", "jid-single", "jid-multi", "boolean", "list-single")
# The API key scopes (``[http] api_keys``): what a caller needs to run an operation.
SCOPES = ("read", "admin", "scripts")
# Callers with every admin permission: an API key (its scopes are checked by the REST door), or whoever
# could open the admin socket or run the CLI on the server's own config and storage.
TRUSTED_CALLERS = ("api-key:", "local:")
MULTI_TYPES = ("jid-multi", "text-multi")
ADMIN_NODE = "http://jabber.org/protocol/admin#"  # XEP-0133 nodes: ADMIN_NODE + "add-user", ...


class AdminError(Exception):
    """An operation refused its input or failed; ``condition`` is the XMPP stanza condition to report
    (each door maps it: a stanza error, an HTTP status, an exit code). ``hint`` is for the CLI."""

    def __init__(self, message: str, condition: str = "bad-request", hint: str | None = None) -> None:
        super().__init__(message)
        self.condition = condition
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    rest: str | None = None  # the JSON field (or path/query parameter) on the operation's REST route
    positional: bool = False  # a CLI argument rather than an option

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name}: unknown type {self.type!r}")

    @property
    def rest_name(self) -> str:
        return self.rest or self.name

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_multi(self) -> bool:
        return self.type in MULTI_TYPES


@dataclass(frozen=True, slots=True)
class Result:
    """What an operation answers: a note, and optionally named values and/or a table."""

    note: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"note": self.note, "values": self.values, "rows": self.rows}


def note_answer(result: Result) -> object:
    return {"result": result.note}


@dataclass(frozen=True, slots=True)
class Rest:
    """The operation's own REST route (besides ``POST /api/v1/commands/<name>``, which runs any)."""

    method: str
    path: str
    operation_id: str
    tag: str
    status: int = 200  # on success
    answer: Callable[[Result], object] = note_answer  # the JSON document for a result
    response: dict[str, Any] | None = None  # its schema (None: ``{"result": string}``)
    errors: dict[str, int] = field(default_factory=dict)  # condition → status, where the route differs
    json: dict[str, str] = field(default_factory=dict)  # field → JID schema name (BareJid, Domain, ...)
    query: tuple[str, ...] = ()  # parameters read from the query string


@dataclass(frozen=True, slots=True)
class Call:
    """Who runs an operation, where, and with what."""

    deps: AdminDeps
    caller: str  # bare JID, "api-key:<name>", "local:uid=<n>" (admin socket) or "local:cli" (offline CLI)
    vhost: str | None  # the vhost addressed (ad-hoc), or the ``vhost`` argument of a REST call


Handler = Callable[[Call, dict[str, Any]], Awaitable[Result]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    title: str
    description: str
    run: Handler
    params: tuple[Param, ...] = ()
    admin_only: bool = True
    node: str | None = None  # the XEP-0050 node, when it must differ from the name (XEP-0133 URIs)
    source: str = "builtin"
    scope: str = "admin"  # the API key scope a REST caller needs: "read" for operations that change nothing
    rest: Rest | None = None
    live_only: bool = False  # needs the running server (sessions, lockouts, metrics): no offline CLI
    returns: tuple[str, ...] = ()  # the result shape: names of its values ...
    columns: tuple[str, ...] = ()  # ... and the columns of its rows

    @property
    def xmpp_node(self) -> str:
        return self.node or self.name

    def check(self, args: dict[str, Any]) -> dict[str, Any]:
        """Validate and complete ``args`` against the declared parameters."""
        known = {p.name: p for p in self.params}
        for key in args:
            if key not in known:
                raise AdminError(f"unknown parameter {key!r}")
        checked: dict[str, Any] = {}
        for param in self.params:
            value = args.get(param.name, param.default)
            if value in (None, "", []):
                if param.required:
                    raise AdminError(f"parameter {param.name!r} is required")
                continue
            if param.type == "boolean" and not isinstance(value, bool):
                value = str(value).lower() in ("1", "true", "yes")
            if param.is_multi and isinstance(value, str):
                value = [line for line in value.splitlines() if line.strip()]
            if param.choices and value not in param.choices:
                raise AdminError(f"parameter {param.name!r} must be one of {', '.join(param.choices)}")
            checked[param.name] = value
        return checked


class Registry:
    """Every operation the server offers, by name and by XEP-0050 node. ``deps`` builds the dependencies
    for :meth:`run` (the running server's, or the CLI's offline ones)."""

    def __init__(self, deps: Callable[[], AdminDeps] | None = None) -> None:
        self._operations: dict[str, Operation] = {}
        self._deps = deps

    def register(self, operation: Operation) -> Callable[[], None]:
        if operation.name in self._operations:
            raise ValueError(f"command {operation.name!r} already registered")
        self._operations[operation.name] = operation

        def undo() -> None:
            if self._operations.get(operation.name) is operation:
                del self._operations[operation.name]

        return undo

    def get(self, name: str) -> Operation | None:
        return self._operations.get(name)

    def by_node(self, node: str) -> Operation | None:
        for operation in self._operations.values():
            if operation.xmpp_node == node:
                return operation
        return None

    def all(self) -> list[Operation]:
        return sorted(self._operations.values(), key=lambda c: c.name)

    async def execute(self, name: str, call: Call, args: dict[str, Any]) -> Result:
        operation = self._operations.get(name)
        if operation is None:
            raise AdminError(f"no command {name!r}", "item-not-found")
        trusted = call.caller.startswith(TRUSTED_CALLERS) or call.deps.is_admin(call.caller)
        if operation.admin_only and not trusted:
            raise AdminError("administrators only", "forbidden")
        return await operation.run(call, operation.check(args))

    async def run(self, name: str, caller: str, vhost: str | None, args: dict[str, Any]) -> Result:
        """Run ``name`` for ``caller`` on the registry's own dependencies."""
        if self._deps is None:
            raise RuntimeError("this registry has no dependencies to run operations on")
        return await self.execute(name, Call(self._deps(), caller, vhost), args)
