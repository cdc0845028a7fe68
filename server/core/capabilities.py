"""What a module may reach besides its own declaration: small, typed capabilities.

A :class:`~tigase_py.server.core.module.ModuleContext` carries these instead of the whole server, so a
module's real dependencies show in what it uses, and a unit test builds a context from fakes
(:mod:`tests.unit.fake_capabilities`) without starting anything.

    ctx.sessions.resources("juliet@example.com")      # SessionView: who is online
    await ctx.route(stanza)                            # the router, for stanzas a module originates
    await ctx.fire("roster.changed", owner=..., ...)   # Events, on the context's vhost
    ctx.features.is_loaded(vhost, "adhoc")             # FeatureView: what loaded modules declared
    ctx.hosts.is_local(domain)                         # Hosts: served vhosts and their options
    ctx.settings.is_admin(bare)                        # ServerSettings: the few server-wide facts
    ctx.commands.execute(name, caller, vhost, args)    # Commands: the admin command registry
    ctx.metrics.counter("stored", ...)                 # ModuleMetrics: only what the module declares
    ctx.track(coroutine)                               # background work owned by the server
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tigase_py.server.core.commands import Call, Command, CommandRegistry, CommandResult
from tigase_py.server.core.metrics import DEFAULT_BUCKETS, Distribution, Metric, MetricsRegistry, Value

if TYPE_CHECKING:
    import asyncio

    from tigase_py.server.config.schema import VhostOptions
    from tigase_py.server.core.module import Identity, ModuleContext
    from tigase_py.server.core.services import ServiceBinding
    from tigase_py.server.core.session import Session
    from tigase_py.server.jid import Jid
    from tigase_py.server.xml.element import Element

Undo = Callable[[], None]


class SessionView(Protocol):
    """Read access to bound sessions; a module sends to one with ``session.send``."""

    def get(self, jid: Jid) -> Session | None: ...

    def resources(self, bare: str) -> list[Session]: ...

    def has_resources(self, bare: str) -> bool: ...


class Events(Protocol):
    """Notifications and folds (:class:`~tigase_py.server.core.events.EventBus` is one)."""

    def has(self, name: str, vhost: str | None, kind: str | None = None) -> bool: ...

    async def fire(self, name: str, vhost: str | None = None, /, **fields: Any) -> bool: ...

    async def fold(self, name: str, value: Any, vhost: str | None = None, /, **fields: Any) -> Any: ...


class FeatureView(Protocol):
    """What the modules loaded on a vhost declared: disco features and identities, hosted services and
    disco node providers (the module registry)."""

    def features(self, vhost: str, account: bool = False) -> list[str]: ...

    def identities(self, vhost: str) -> list[Identity]: ...

    def is_loaded(self, vhost: str, name: str) -> bool: ...

    def hosted_services(self, vhost: str) -> list[ServiceBinding]: ...

    def hosted_service(self, domain: str) -> ServiceBinding | None: ...

    def disco_providers(self, vhost: str, kind: str, on: str, domain: str) -> list[tuple[ModuleContext, Any]]: ...


class Hosts(Protocol):
    """The vhosts served now (they change at run time) and their per-vhost options."""

    def is_local(self, domain: str) -> bool: ...

    def options(self, domain: str) -> VhostOptions: ...


class Commands(Protocol):
    """The admin command registry as a module sees it."""

    def all(self) -> list[Command]: ...

    def by_node(self, node: str) -> Command | None: ...

    def register(self, command: Command) -> None: ...

    async def execute(self, name: str, caller: str, vhost: str | None, args: dict[str, Any]) -> CommandResult: ...


Route = Callable[["Element"], Awaitable[None]]
Track = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The server-wide facts modules read: who administers the server, when it started, the
    offline queue bound (``[server] admins``, ``[limits] offline_queue_size``)."""

    admins: frozenset[str] = frozenset()
    started_at: float = 0.0
    offline_queue_size: int = 100

    def is_admin(self, bare: str) -> bool:
        return bare in self.admins


class ServedHosts:
    """:class:`Hosts` over the live set of served vhosts and the configured per-vhost options."""

    __slots__ = ("_vhosts", "_options")

    def __init__(self, vhosts: Collection[str], options: Callable[[str], VhostOptions]) -> None:
        self._vhosts = vhosts
        self._options = options

    def is_local(self, domain: str) -> bool:
        return domain in self._vhosts

    def options(self, domain: str) -> VhostOptions:
        return self._options(domain)


class ModuleCommands:
    """:class:`Commands` for one module instance: what it registers is removed when it unloads.

    ``context`` builds the :class:`Call` a command runs with, from caller and vhost; the
    assembly supplies it, so a module never holds what commands need to run.
    """

    __slots__ = ("_registry", "_context", "_undo")

    def __init__(
        self,
        registry: CommandRegistry,
        context: Callable[[str, str | None], Call],
        undo: Callable[[Undo], None],
    ) -> None:
        self._registry = registry
        self._context = context
        self._undo = undo

    def all(self) -> list[Command]:
        return self._registry.all()

    def by_node(self, node: str) -> Command | None:
        return self._registry.by_node(node)

    def register(self, command: Command) -> None:
        self._undo(self._registry.register(command))

    async def execute(self, name: str, caller: str, vhost: str | None, args: dict[str, Any]) -> CommandResult:
        return await self._registry.execute(name, self._context(caller, vhost), args)


class VhostMetric:
    """One declared metric as seen from one vhost: ``labels()`` and ``dist()`` prepend the vhost."""

    __slots__ = ("metric", "vhost")

    def __init__(self, metric: Metric, vhost: str) -> None:
        self.metric = metric
        self.vhost = vhost

    def labels(self, *values: str) -> Value:
        return self.metric.labels(self.vhost, *values)

    def dist(self, *values: str) -> Distribution:
        return self.metric.dist(self.vhost, *values)

    @property
    def plain(self) -> Value:
        return self.metric.labels(self.vhost)


class ModuleMetrics:
    """The metrics a module declares (in ``on_start``): ids ``<module>.<name>``, a first ``vhost`` label;
    a vhost's series disappear when the module unloads there, the metric when no vhost has series."""

    __slots__ = ("_registry", "_module", "_vhost", "_undo")

    def __init__(self, registry: MetricsRegistry, module: str, vhost: str, undo: Callable[[Undo], None]) -> None:
        self._registry = registry
        self._module = module
        self._vhost = vhost
        self._undo = undo

    def _declared(self, metric: Metric) -> VhostMetric:
        vhost, registry = self._vhost, self._registry

        def forget() -> None:
            if metric.forget(vhost) == 0 and registry.metrics.get(metric.id) is metric:
                registry.remove(metric.id)

        self._undo(forget)
        return VhostMetric(metric, vhost)

    def _names(self, name: str, display: str) -> tuple[str, str]:
        return f"{self._module}.{name}", f"{self._module}/{display}"

    def counter(self, name: str, display: str, description: str, labels: tuple[str, ...] = ()) -> VhostMetric:
        metric_id, shown = self._names(name, display)
        return self._declared(self._registry.counter(metric_id, shown, description, ("vhost", *labels)))

    def gauge(self, name: str, display: str, description: str, labels: tuple[str, ...] = ()) -> VhostMetric:
        metric_id, shown = self._names(name, display)
        return self._declared(self._registry.gauge(metric_id, shown, description, ("vhost", *labels)))

    def histogram(
        self,
        name: str,
        display: str,
        description: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> VhostMetric:
        metric_id, shown = self._names(name, display)
        return self._declared(self._registry.histogram(metric_id, shown, description, ("vhost", *labels), buckets))


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The capabilities shared by every module instance; the registry adds the per-module ones."""

    sessions: SessionView
    events: Events
    route: Route
    hosts: Hosts
    settings: ServerSettings
    track: Track
    commands: CommandRegistry  # wrapped per module by ModuleCommands
    command_context: Callable[[str, str | None], Call]
    metrics: MetricsRegistry
