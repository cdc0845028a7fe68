"""The Server: the assembly root that owns config, storage, sessions, router, modules and vhosts.

Modules never see it: the registry hands each module instance the narrow capabilities built here
(:class:`~tigase_py.server.core.capabilities.Capabilities`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from tigase_py.server import admin
from tigase_py.server.admin.live import deps_of
from tigase_py.server.admin.operation import Call, Registry
from tigase_py.server.core import stats
from tigase_py.server.core.capabilities import Capabilities, ServedHosts, ServerSettings
from tigase_py.server.core.events import EventBus
from tigase_py.server.core.login_guard import LoginGuard
from tigase_py.server.core.metrics import MetricsRegistry
from tigase_py.server.core.registry import ModuleRegistry
from tigase_py.server.core.router import Router
from tigase_py.server.core.session import SessionManager
from tigase_py.server.core.tasks import BackgroundTasks
from tigase_py.server.net.admission import Admission

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig
    from tigase_py.server.storage.engine import Storage

log = logging.getLogger("tigase_py.server")


async def account_exists(storage: Storage, owner: str) -> bool:
    local, _, domain = owner.partition("@")
    if not domain:
        return False
    return await storage.users.exists(local, domain)


class Server:
    def __init__(self, config: ServerConfig, storage: Storage) -> None:
        self.config = config
        self.storage = storage
        self.started_at = time.time()
        self.admission = Admission(config.limits)
        self.metrics = MetricsRegistry()
        self.stats = stats.CoreMetrics(self.metrics)
        self.commands = Registry(lambda: deps_of(self))
        admin.register_builtins(self.commands)
        self.registered_users: dict[str, int] = {}
        stats.register_process_metrics(self.metrics, self)
        stats.instrument_storage(storage, self.stats)
        self.bus = EventBus()
        self.sessions = SessionManager()
        self.vhosts: set[str] = set()
        exists = functools.partial(account_exists, storage)
        self.router = Router(self.sessions, self.bus, self.stats, self.vhosts, exists)
        self.background = BackgroundTasks()
        self.tasks: set[asyncio.Task[Any]] = self.background.running
        self.registry = ModuleRegistry(config.modules, storage, self.capabilities(), self.router, self.bus, self.stats)
        self.connections: set[Any] = set()
        self.auth_failures = 0
        self.login_guard = LoginGuard(config.limits)
        self.bus.on("user.created", self.recount_users)
        self.bus.on("user.deleted", self.recount_users)

    def capabilities(self) -> Capabilities:
        """What modules may use, each part narrow: they never get this object."""
        config = self.config
        return Capabilities(
            sessions=self.sessions,
            events=self.bus,
            route=self.router.deliver,
            hosts=ServedHosts(self.vhosts, config.options_for),
            settings=ServerSettings(
                admins=frozenset(config.server.admins),
                started_at=self.started_at,
                offline_queue_size=config.limits.offline_queue_size,
            ),
            track=self.background.track,
            commands=self.commands,
            command_context=self.command_context,
            metrics=self.metrics,
        )

    def command_context(self, caller: str, vhost: str | None) -> Call:
        return Call(deps_of(self), caller, vhost)

    def track(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background task owned by the server (kept referenced, awaited at shutdown)."""
        return self.background.track(coroutine)

    async def user_exists(self, owner: str) -> bool:
        return await account_exists(self.storage, owner)

    async def recount_users(self, owner: str, **_fields: Any) -> None:
        """Keep the registered-users gauge exact after an account is created or deleted (not 10 s late)."""
        domain = owner.partition("@")[2]
        if domain in self.vhosts:
            self.registered_users[domain] = await self.storage.users.count(domain)

    def is_admin(self, bare: str) -> bool:
        return bare in self.config.server.admins

    def vhost_options(self, vhost: str) -> object | None:
        return self.config.vhost_options.get(vhost)

    # -- vhosts ------------------------------------------------------------
    async def add_vhost(self, vhost: str) -> bool:
        if vhost in self.vhosts:
            return False
        self.vhosts.add(vhost)
        await self.registry.load_vhost(vhost)
        await self.bus.fire("vhost.added", vhost, vhost=vhost)
        log.info("vhost_added vhost=%s", vhost)
        return True

    async def remove_vhost(self, vhost: str) -> bool:
        if vhost not in self.vhosts:
            return False
        for session in self.sessions.in_domain(vhost):
            session.writer.close_with_error("host-gone", f"{vhost} is no longer served here")
        await self.bus.fire("vhost.removed", vhost, vhost=vhost)
        await self.registry.unload_vhost(vhost)
        self.vhosts.discard(vhost)
        log.info("vhost_removed vhost=%s", vhost)
        return True

    async def sync_vhosts(self) -> None:
        """Make the served vhosts equal to the configured ones plus those stored in the database."""
        wanted = set(self.config.server.vhosts) | set(await self.storage.vhosts.list())
        for vhost in sorted(wanted - self.vhosts):
            await self.add_vhost(vhost)
        for vhost in sorted(self.vhosts - wanted):
            await self.remove_vhost(vhost)
