"""Fake capabilities for running a module's handlers with no server: what they route, fire and send is
recorded for the test to assert on.

    fakes = Fakes(settings=ServerSettings(started_at=time.time() - 42))
    ctx = fakes.context(last.module)
    reply = await last.server_uptime(fakes.iq(ctx, "get", "example.com", query))
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.config.schema import VhostOptions
from tigase_py.server.core.capabilities import Capabilities, ServedHosts, ServerSettings
from tigase_py.server.core.commands import Call, CommandRegistry
from tigase_py.server.core.metrics import MetricsRegistry
from tigase_py.server.core.module import Identity, IqContext, Module, ModuleContext, build_config
from tigase_py.server.core.session import Session
from tigase_py.server.xml.element import Element


class RecordingWriter:
    """A session's writer that keeps what was sent to it."""

    def __init__(self) -> None:
        self.sent: list[Element] = []
        self.closed: list[str] = []

    def send_stanza(self, stanza: Element) -> None:
        self.sent.append(stanza)

    def close_with_error(self, condition: str, text: str = "") -> None:
        self.closed.append(condition)


def online(full_jid: str, available: bool = True) -> Session:
    session = Session(RecordingWriter(), jids.parse(full_jid))
    session.available = available
    return session


class FakeSessions:
    def __init__(self, *sessions: Session) -> None:
        self.sessions = list(sessions)

    def get(self, jid: jids.Jid) -> Session | None:
        return next((s for s in self.sessions if s.full == str(jid)), None)

    def resources(self, bare: str) -> list[Session]:
        return [s for s in self.sessions if s.bare == bare]

    def has_resources(self, bare: str) -> bool:
        return bool(self.resources(bare))


class FakeEvents:
    """Records notifications; no fold handlers, so folds return their value."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, str | None, dict[str, Any]]] = []

    def has(self, name: str, vhost: str | None, kind: str | None = None) -> bool:
        return False

    async def fire(self, name: str, vhost: str | None = None, /, **fields: Any) -> bool:
        self.fired.append((name, vhost, fields))
        return False

    async def fold(self, name: str, value: Any, vhost: str | None = None, /, **fields: Any) -> Any:
        return value


@dataclass
class FakeFeatures:
    loaded: dict[str, list[Module]] = field(default_factory=dict)

    def features(self, vhost: str, account: bool = False) -> list[str]:
        modules = self.loaded.get(vhost, [])
        return sorted({f for m in modules for f in (m.account_features if account else m.features)})

    def identities(self, vhost: str) -> list[Identity]:
        return [i for m in self.loaded.get(vhost, []) for i in m.identities]

    def is_loaded(self, vhost: str, name: str) -> bool:
        return any(m.name == name for m in self.loaded.get(vhost, []))


@dataclass
class Fakes:
    """One set of fake capabilities; ``context()`` builds a module context over them."""

    sessions: FakeSessions = field(default_factory=FakeSessions)
    events: FakeEvents = field(default_factory=FakeEvents)
    features: FakeFeatures = field(default_factory=FakeFeatures)
    vhosts: set[str] = field(default_factory=lambda: {"example.com"})
    settings: ServerSettings = field(default_factory=ServerSettings)
    commands: CommandRegistry = field(default_factory=CommandRegistry)
    metrics: MetricsRegistry = field(default_factory=MetricsRegistry)
    storage: Any = None
    routed: list[Element] = field(default_factory=list)
    tracked: list[asyncio.Task[Any]] = field(default_factory=list)

    async def route(self, stanza: Element) -> None:
        self.routed.append(stanza)

    def track(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tracked.append(task)
        return task

    def command_context(self, caller: str, vhost: str | None) -> Call:
        return Call(None, caller, vhost)  # type: ignore[arg-type]  # no command here reads its deps

    def capabilities(self) -> Capabilities:
        return Capabilities(
            sessions=self.sessions,
            events=self.events,
            route=self.route,
            hosts=ServedHosts(self.vhosts, lambda _domain: VhostOptions()),
            settings=self.settings,
            track=self.track,
            commands=self.commands,
            command_context=self.command_context,
            metrics=self.metrics,
        )

    def context(
        self, module: Module, vhost: str = "example.com", options: dict[str, Any] | None = None
    ) -> ModuleContext:
        config = build_config(module, options or {})
        return ModuleContext(module, vhost, config, self.storage, self.capabilities(), self.features)

    @staticmethod
    def iq(
        ctx: ModuleContext, iq_type: str, to: str, payload: Element, sender: str = "juliet@example.com/balcony"
    ) -> IqContext:
        stanza = Element("iq", {"type": iq_type, "id": "q1", "from": sender, "to": to})
        stanza.append(payload)
        return IqContext(ctx, stanza, jids.parse(sender), jids.parse(to), None)


class StubStorage:
    """Storage whose feature stores are given by spec name (``roster=...``); ``users`` is a core store."""

    def __init__(self, users: Any = None, **stores: Any) -> None:
        self.users = users
        self._stores = stores

    def store(self, spec: Any) -> Any:
        return self._stores[spec.name]
