"""The module contract: how every protocol feature enters the server.

A module file builds one :class:`Module` declaration at import time and registers nothing. The
registry starts it once per vhost with a :class:`ModuleContext`; everything registered through that
context (IQ handlers, presence handlers, events, folds, timers) is undone when the vhost or the module
is unloaded.

    module = Module(name="ping", specs=[Spec("XEP-0199", "2.0.1")], features=[ns.PING])

    @module.iq("get", ns.PING, "ping", to=("server", "self", "bare"))
    async def answer_ping(ctx: IqContext) -> Element:
        return ctx.result()
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tigase_py.server.core import disco_providers, services
from tigase_py.server.core.capabilities import (
    Capabilities,
    Events,
    FeatureView,
    Hosts,
    ModuleCommands,
    ModuleMetrics,
    ServerSettings,
    SessionView,
)
from tigase_py.server.jid import Jid
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.core.disco_providers import InfoProvider, ItemsProvider
    from tigase_py.server.core.preauth import PreAuth
    from tigase_py.server.core.services import HostedService, ServiceBinding
    from tigase_py.server.core.session import Session
    from tigase_py.server.storage.engine import Storage
    from tigase_py.server.storage.spec import StoreSpec

ADDRESSING = ("server", "self", "bare", *services.SERVICE_ADDRESSING)
P = TypeVar("P")  # a feature store Protocol


@dataclass(frozen=True, slots=True)
class Spec:
    """A specification a module implements, e.g. ``Spec("XEP-0199", "2.0.1")``."""

    name: str
    version: str = ""
    section: str = ""
    status: str = "complete"


@dataclass(frozen=True, slots=True)
class Identity:
    category: str
    type: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class IqKey:
    type: str
    addressing: str
    ns: str
    element: str

    def __str__(self) -> str:
        return f"iq-{self.type}/{self.addressing}/{self.ns}:{self.element}"


IqHandler = Callable[["IqContext"], Awaitable[Element | None]]
PresenceHandler = Callable[["StanzaContext"], Awaitable[None]]
ServiceStanzaHandler = Callable[["StanzaContext"], Awaitable[Element | None]]


@dataclass
class _Declarations:
    iqs: list[tuple[tuple[str, ...], str, str, tuple[str, ...], IqHandler]] = field(default_factory=list)
    presence: list[tuple[str, PresenceHandler]] = field(default_factory=list)
    events: list[tuple[str, int, Callable[..., Awaitable[Any]]]] = field(default_factory=list)
    folds: list[tuple[str, int, Callable[..., Awaitable[Any]], frozenset[str] | None]] = field(default_factory=list)
    starts: list[Callable[[ModuleContext], Awaitable[None]]] = field(default_factory=list)
    stops: list[Callable[[ModuleContext], Awaitable[None]]] = field(default_factory=list)
    service_stanzas: list[tuple[str, ServiceStanzaHandler]] = field(default_factory=list)
    disco_info: list[tuple[tuple[str, ...], InfoProvider]] = field(default_factory=list)
    disco_items: list[tuple[tuple[str, ...], ItemsProvider]] = field(default_factory=list)


class Module:
    """A declaration of one protocol feature."""

    def __init__(
        self,
        name: str,
        specs: Iterable[Spec] = (),
        features: Iterable[str] = (),
        account_features: Iterable[str] = (),
        identities: Iterable[Identity] = (),
        depends: Iterable[str] = (),
        config: type | None = None,
        stream_features: Callable[[Session], Element | None] | None = None,
        stores: Iterable[StoreSpec[Any]] = (),
        pre_auth: PreAuth | None = None,
        service: HostedService | None = None,
    ) -> None:
        self.name = name
        self.specs = tuple(specs)
        self.features = tuple(features)
        self.account_features = tuple(account_features)
        self.identities = tuple(identities)
        self.depends = tuple(depends)
        self.config = config
        self.stream_features = stream_features
        self.stores = tuple(stores)  # the feature stores this module owns (others may read them too)
        self.pre_auth = pre_auth  # offered on client streams before login (core/preauth.py)
        self.service = service  # a hosted service on a subdomain of each vhost (core/services.py)
        self.declared = _Declarations()

    def iq(
        self, types: str | tuple[str, ...], ns: str, element: str, to: str | tuple[str, ...] = ("self",)
    ) -> Callable[[IqHandler], IqHandler]:
        """``to``: ``server``, ``self``, ``bare``, or for a hosted service ``service`` (its domain),
        ``service_node`` (``node@`` it) and ``service_full`` (full JIDs under it); with service
        addressing ``ns``/``element`` may be ``"*"``: the handler then gets what no other one matched."""
        type_list = (types,) if isinstance(types, str) else tuple(types)
        addressing = (to,) if isinstance(to, str) else tuple(to)
        for item in addressing:
            if item not in ADDRESSING:
                raise ValueError(f"unknown addressing {item!r}")

        def register(fn: IqHandler) -> IqHandler:
            self.declared.iqs.append((type_list, ns, element, addressing, fn))
            return fn

        return register

    def presence(self, direction: str) -> Callable[[PresenceHandler], PresenceHandler]:
        """``outbound`` (from a local session), ``inbound`` (to a local JID) or ``service`` (to this
        module's hosted service or any JID under it; the handler may return a stanza to deliver)."""
        if direction == "service":
            return self._service_stanza("presence")  # type: ignore[return-value]
        if direction not in ("outbound", "inbound"):
            raise ValueError(direction)

        def register(fn: PresenceHandler) -> PresenceHandler:
            self.declared.presence.append((direction, fn))
            return fn

        return register

    def message(self, to: str = "service") -> Callable[[ServiceStanzaHandler], ServiceStanzaHandler]:
        """Messages to this module's hosted service or any JID under it (``to="service"``, the only one)."""
        if to != "service":
            raise ValueError(f"unknown message addressing {to!r}")
        return self._service_stanza("message")

    def _service_stanza(self, kind: str) -> Callable[[ServiceStanzaHandler], ServiceStanzaHandler]:
        if self.service is None:
            raise ValueError(f"module {self.name!r}: {kind} handlers for a service need Module(service=...)")

        def register(fn: ServiceStanzaHandler) -> ServiceStanzaHandler:
            self.declared.service_stanzas.append((kind, fn))
            return fn

        return register

    def disco_info(self, on: str | Iterable[str]) -> Callable[[InfoProvider], InfoProvider]:
        """Declare a disco#info provider for nodes of ``on`` JIDs (see core/disco_providers.py)."""
        return disco_providers.declare(self.declared.disco_info, on)

    def disco_items(self, on: str | Iterable[str]) -> Callable[[ItemsProvider], ItemsProvider]:
        """Declare a disco#items provider (pageable: it gets the XEP-0059 request)."""
        return disco_providers.declare(self.declared.disco_items, on)

    def on(self, event: str, priority: int = 0) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
        def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.declared.events.append((event, priority, fn))
            return fn

        return register

    def fold(
        self, name: str, priority: int = 0, kinds: Iterable[str] | None = None
    ) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
        """Register a fold handler; ``kinds`` (stanza tags) limits it to the stanzas it looks at."""
        only = frozenset(kinds) if kinds is not None else None

        def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.declared.folds.append((name, priority, fn, only))
            return fn

        return register

    def on_start(self, fn: Callable[[ModuleContext], Awaitable[None]]) -> Callable[[ModuleContext], Awaitable[None]]:
        self.declared.starts.append(fn)
        return fn

    def on_stop(self, fn: Callable[[ModuleContext], Awaitable[None]]) -> Callable[[ModuleContext], Awaitable[None]]:
        self.declared.stops.append(fn)
        return fn


class ModuleContext:
    """What a module instance on one vhost may use: narrow capabilities, never the server object.

    Everything it registers (handlers, hooks, commands, metrics, background tasks) is undone on unload.
    """

    def __init__(
        self, module: Module, vhost: str, config: Any, storage: Storage, caps: Capabilities, features: FeatureView
    ) -> None:
        self.module = module
        self.vhost = vhost
        self.config = config
        self._storage = storage
        self.log = logging.getLogger(f"tigase_py.modules.{module.name}")
        self.state: dict[str, Any] = {}
        self.service: ServiceBinding | None = None  # where this module's hosted service runs on this vhost
        self.started = False  # every on_start ran: on_stop runs at unload
        self._undo: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._route = caps.route
        self._track = caps.track
        self.sessions: SessionView = caps.sessions
        self.events: Events = caps.events
        self.features = features
        self.hosts: Hosts = caps.hosts
        self.settings: ServerSettings = caps.settings
        self.commands = ModuleCommands(caps.commands, caps.command_context, self.add_undo)
        self.metrics = ModuleMetrics(caps.metrics, module.name, vhost, self.add_undo)

    @property
    def storage(self) -> Storage:
        """The core stores (`users`, `vhosts`); feature stores come from `store(SPEC)`."""
        return self._storage

    def store(self, spec: StoreSpec[P]) -> P:
        """The feature store declared by `spec`, typed as its Protocol."""
        return self._storage.store(spec)

    def add_undo(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def undo_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        while self._undo:
            self._undo.pop()()

    async def route(self, stanza: Element) -> None:
        """Deliver a stanza the module originates (its ``from`` must be set)."""
        await self._route(stanza)

    async def fire(self, event: str, **fields: Any) -> bool:
        return await self.events.fire(event, self.vhost, **fields)

    async def fold(self, name: str, value: Any, **fields: Any) -> Any:
        """Run the ``name`` fold on this vhost; the value comes back unchanged when nothing folds it."""
        if not self.events.has(name, self.vhost, getattr(value, "tag", None)):
            return value
        return await self.events.fold(name, value, self.vhost, **fields)

    def track(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run background work owned by the server (awaited at shutdown), cancelled if the module unloads first."""
        task = self._track(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def sessions_of(self, owner: str) -> list[Session]:
        return self.sessions.resources(owner)


class StanzaContext:
    """A stanza being handled: the stanza, its parsed sender and recipient, the module context."""

    __slots__ = ("stanza", "sender", "to", "origin", "module")

    def __init__(
        self, module: ModuleContext, stanza: Element, sender: Jid, to: Jid, origin: Session | None
    ) -> None:
        self.module = module
        self.stanza = stanza
        self.sender = sender
        self.to = to
        self.origin = origin

    @property
    def storage(self) -> Storage:
        return self.module.storage

    def store(self, spec: StoreSpec[P]) -> P:
        return self.module.store(spec)

    @property
    def config(self) -> Any:
        return self.module.config

    @property
    def user(self) -> str:
        """The bare JID string of the sender."""
        return self.sender.bare_str

    @property
    def payload(self) -> Element:
        child = self.stanza.first_child()
        assert child is not None
        return child

    async def route(self, stanza: Element) -> None:
        await self.module.route(stanza)


class IqContext(StanzaContext):
    __slots__ = ()

    def result(self, payload: Element | None = None) -> Element:
        attrs = {"type": "result", "id": self.stanza.attrs.get("id", "")}
        frm = self.stanza.attrs.get("from")
        if frm:
            attrs["to"] = frm
        attrs["from"] = str(self.to)
        reply = Element("iq", attrs)
        if payload is not None:
            reply.children.append(payload)
        return reply


def build_config(module: Module, options: dict[str, Any]) -> Any:
    """Instantiate the module's typed config from its ``[modules.<name>]`` table."""
    if module.config is None:
        if options:
            raise ValueError(f"modules.{module.name}: this module takes no options")
        return None
    known = {f.name: f for f in dataclasses.fields(module.config)}
    for key, value in options.items():
        if key not in known:
            raise ValueError(f"modules.{module.name}.{key}: unknown option")
        expected = known[key].type
        expected_type = {"int": int, "bool": bool, "str": str, "float": float}.get(str(expected))
        if expected_type is not None and not (
            isinstance(value, expected_type) and not (expected_type is int and isinstance(value, bool))
        ):
            raise ValueError(f"modules.{module.name}.{key}: expected {expected}, got {value!r}")
    return module.config(**options)
