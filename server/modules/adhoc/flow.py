"""XEP-0050 command sessions and the translation between a :class:`Command` and XEP-0004 forms.

A session starts when a command with parameters is executed: it is keyed by the requester's full JID
and a random session id, remembers the command node, and expires after ten minutes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from tigase_py.server.core.commands import Command, CommandResult, Param
from tigase_py.server.xml import forms

SESSION_LIFETIME = 600.0
ADMIN_FORM_TYPE = "http://jabber.org/protocol/admin"
ADMIN_PREFIX = ADMIN_FORM_TYPE + "#"


@dataclass(slots=True)
class CommandSession:
    sessionid: str
    requester: str
    node: str
    started: float


class SessionTable:
    """Open command sessions of one vhost, per requester full JID."""

    def __init__(self, lifetime: float = SESSION_LIFETIME) -> None:
        self.lifetime = lifetime
        self._sessions: dict[tuple[str, str], CommandSession] = {}

    def _prune(self, now: float) -> None:
        expired = [key for key, s in self._sessions.items() if now - s.started > self.lifetime]
        for key in expired:
            del self._sessions[key]

    def open(self, requester: str, node: str) -> CommandSession:
        now = time.monotonic()
        self._prune(now)
        session = CommandSession(secrets.token_hex(8), requester, node, now)
        self._sessions[(requester, session.sessionid)] = session
        return session

    def get(self, requester: str, sessionid: str, node: str) -> CommandSession | None:
        self._prune(time.monotonic())
        session = self._sessions.get((requester, sessionid))
        return session if session is not None and session.node == node else None

    def close(self, session: CommandSession) -> None:
        self._sessions.pop((session.requester, session.sessionid), None)

    def __len__(self) -> int:
        return len(self._sessions)


def form_params(command: Command) -> tuple[Param, ...]:
    """The parameters asked in the form; an optional ``vhost`` comes from the addressed JID instead."""
    return tuple(p for p in command.params if not (p.name == "vhost" and not p.required))


def request_form(command: Command) -> forms.Form:
    fields: list[forms.Field] = []
    if command.xmpp_node.startswith(ADMIN_PREFIX):
        fields.append(forms.Field("FORM_TYPE", "hidden", values=[ADMIN_FORM_TYPE]))
    for param in form_params(command):
        fields.append(
            forms.Field(
                param.name,
                param.type,
                label=param.label,
                values=forms.format_value(param.default),
                required=param.required,
                options=[(choice, choice) for choice in param.choices],
            )
        )
    instructions = [command.description] if command.description else []
    return forms.Form("form", title=command.title, instructions=instructions, fields=fields)


def submitted_args(command: Command, form: forms.Form) -> dict[str, Any]:
    """The values of a submitted form for the command's own parameters (other fields are ignored)."""
    known = {p.name for p in form_params(command)}
    args: dict[str, Any] = {}
    for var, value in form.values().items():
        if var in known and value is not None:
            args[var] = value
    return args


def _field_type(var: str, value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, list | tuple | set | frozenset):
        return "jid-multi" if var.endswith("jids") else "text-multi"
    return "text-single"


def result_form(command: Command, result: CommandResult) -> forms.Form | None:
    """The ``result`` form for what a command answered: values as fields, rows as a table."""
    if not result.values and not result.rows:
        return None
    form = forms.Form("result", title=command.title)
    if command.xmpp_node.startswith(ADMIN_PREFIX):
        form.fields.append(forms.Field("FORM_TYPE", "hidden", values=[ADMIN_FORM_TYPE]))
    for var, value in result.values.items():
        form.fields.append(forms.Field(var, _field_type(var, value), values=forms.format_value(value)))
    columns: list[str] = []
    for row in result.rows:
        columns.extend(key for key in row if key not in columns)
    form.reported = [forms.Field(column, "text-single", label=column) for column in columns]
    for row in result.rows:
        form.items.append(
            [forms.Field(column, "text-single", values=forms.format_value(row.get(column))) for column in columns]
        )
    return form
