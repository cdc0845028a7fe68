"""Loads and unloads modules per vhost, in dependency order, undoing every registration."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from tigase_py.server.core import module_names, services
from tigase_py.server.core.module import Identity, Module, ModuleContext, build_config

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ModulesConfig
    from tigase_py.server.core.capabilities import Capabilities
    from tigase_py.server.core.events import EventBus
    from tigase_py.server.core.preauth import PreAuth, PreAuthStream
    from tigase_py.server.core.router import Router
    from tigase_py.server.core.stats import CoreMetrics
    from tigase_py.server.storage.engine import Storage
    from tigase_py.server.xml.element import Element

log = logging.getLogger("tigase_py.registry")


class ModuleLoadError(Exception):
    pass


def import_module(name: str) -> Module:
    """The module named in ``[modules] enabled``: built-in, else an installed ``tigase_py.modules`` entry point."""
    try:
        return module_names.find_module(name)
    except module_names.ModuleNameError as exc:
        raise ModuleLoadError(str(exc)) from None


def resolve_order(names: tuple[str, ...]) -> list[Module]:
    """Import the enabled modules and sort them so dependencies start first."""
    declared = {name: import_module(name) for name in names}
    ordered: list[Module] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(m.name == name for m in ordered):
            return
        if name in visiting:
            raise ModuleLoadError(f"dependency cycle through {name!r}")
        visiting.add(name)
        for dependency in declared[name].depends:
            if dependency not in declared:
                raise ModuleLoadError(f"module {name!r} needs {dependency!r}, which is not enabled")
            visit(dependency)
        visiting.discard(name)
        ordered.append(declared[name])

    for name in names:
        visit(name)
    return ordered


def validate_options(names: tuple[str, ...], options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Build every module's typed config; raise ValueError naming the bad key."""
    configs: dict[str, Any] = {}
    for module in resolve_order(names):
        configs[module.name] = build_config(module, dict(options.get(module.name, {})))
    for name in options:
        if name not in names:
            raise ValueError(f"modules.{name}: options given for a module that is not enabled")
    return configs


class ModuleRegistry:
    """Starts the enabled modules on each vhost with the capabilities they may use, and stops them."""

    def __init__(
        self,
        config: ModulesConfig,
        storage: Storage,
        caps: Capabilities,
        router: Router,
        bus: EventBus,
        stats: CoreMetrics,
    ) -> None:
        self.storage = storage
        self.caps = caps
        self.router = router
        self.bus = bus
        self.stats = stats
        self.modules = resolve_order(config.enabled)
        self.configs = validate_options(config.enabled, config.options)
        self.service_options = config.services  # [services.<name>]; per vhost: caps.hosts.options(vhost)
        self.loaded: dict[str, list[ModuleContext]] = {}

    async def load_vhost(self, vhost: str) -> None:
        if vhost in self.loaded:
            return
        contexts: list[ModuleContext] = []
        self.loaded[vhost] = contexts
        try:
            for module in self.modules:
                ctx = ModuleContext(module, vhost, self.configs[module.name], self.storage, self.caps, self)
                contexts.append(ctx)
                self._bind_service(ctx)
                self._register(ctx)
                for start in module.declared.starts:
                    await start(ctx)
                ctx.started = True
        except BaseException:
            await self.unload_vhost(vhost)  # the modules already started stop again, in reverse
            raise
        log.info("vhost_loaded vhost=%s modules=%d", vhost, len(contexts))

    async def unload_vhost(self, vhost: str) -> None:
        contexts = self.loaded.pop(vhost, [])
        for ctx in reversed(contexts):
            for stop in ctx.module.declared.stops if ctx.started else ():
                try:
                    await stop(ctx)
                except Exception:
                    log.exception("module_stop_failed module=%s vhost=%s", ctx.module.name, vhost)
            ctx.undo_all()

    def _bind_service(self, ctx: ModuleContext) -> None:
        """Serve the module's hosted service on its subdomain of ctx.vhost, unless config disables it."""
        declaration = ctx.module.service
        if declaration is None:
            return
        name, vhost = ctx.module.name, ctx.vhost
        here = self.caps.hosts.options(vhost).services.get(name)
        binding = services.bind(name, declaration, vhost, self.service_options.get(name), here)
        if binding is None:
            return
        try:
            ctx.add_undo(self.router.services.add(binding, self.caps.hosts.is_local))
        except ValueError as exc:
            log.error("service_not_started module=%s vhost=%s reason=%s", ctx.module.name, ctx.vhost, exc)
            return
        ctx.service = binding
        log.info("service_started module=%s domain=%s", ctx.module.name, binding.domain)

    def _register(self, ctx: ModuleContext) -> None:
        router = self.router
        bus = self.bus
        declared = ctx.module.declared
        if declared.iqs:
            stats = self.stats
            stats.handler_latency.dist(ctx.module.name)
            stats.handler_errors.labels(ctx.module.name)
        for types, ns, element, addressing, handler in declared.iqs:
            for address in addressing:
                domain = self._iq_domain(ctx, address)
                for iq_type in types:
                    if domain is not None:
                        router.add_iq((domain, iq_type, address, ns, element), handler, ctx)
        if ctx.service is not None:
            for kind, service_handler in declared.service_stanzas:
                router.to_services.add_stanza_handler(ctx.service.domain, kind, service_handler, ctx)
        for direction, presence_handler in declared.presence:
            router.add_presence(ctx.vhost, direction, presence_handler, ctx)
        for event, priority, fn in declared.events:
            ctx.add_undo(bus.on(event, functools.partial(fn, ctx), ctx.vhost, priority))
        for fold, priority, fn, kinds in declared.folds:
            ctx.add_undo(bus.on(fold, functools.partial(fn, ctx), ctx.vhost, priority, kinds))

    @staticmethod
    def _iq_domain(ctx: ModuleContext, address: str) -> str | None:
        """The router key's domain: the vhost, or for service addressing the module's own service domain
        (None when it does not run here); a module without a service answers on every service of the vhost."""
        if address not in services.SERVICE_ADDRESSING or ctx.module.service is None:
            return ctx.vhost
        return ctx.service.domain if ctx.service is not None else None

    # -- what modules declared, for disco and stream features ------------
    def hosted_services(self, vhost: str) -> list[services.ServiceBinding]:
        """The hosted services running for ``vhost`` (listed in its disco#items)."""
        return self.router.services.of_vhost(vhost)

    def hosted_service(self, domain: str) -> services.ServiceBinding | None:
        return self.router.services.get(domain)

    def disco_providers(self, vhost: str, kind: str, on: str, domain: str) -> list[tuple[ModuleContext, Any]]:
        """The (ctx, provider) pairs of ``kind`` ("info"/"items") for a JID of ``on`` at ``domain``:
        for a service, its own module's and those of modules that host no service."""
        found: list[tuple[ModuleContext, Any]] = []
        for ctx in self.loaded.get(vhost, []):
            if on.startswith("service") and ctx.module.service is not None:
                if ctx.service is None or ctx.service.domain != domain:
                    continue
            declared = ctx.module.declared.disco_info if kind == "info" else ctx.module.declared.disco_items
            found.extend((ctx, fn) for targets, fn in declared if on in targets)
        return found

    def features(self, vhost: str, account: bool = False) -> list[str]:
        found: list[str] = []
        for ctx in self.loaded.get(vhost, []):
            found.extend(ctx.module.account_features if account else ctx.module.features)
        return sorted(set(found))

    def identities(self, vhost: str) -> list[Identity]:
        return [i for ctx in self.loaded.get(vhost, []) for i in ctx.module.identities]

    def stream_features(self, vhost: str, session: Any) -> list[Element]:
        out: list[Element] = []
        for ctx in self.loaded.get(vhost, []):
            if ctx.module.stream_features is not None:
                feature = ctx.module.stream_features(session)
                if feature is not None:
                    out.append(feature)
        return out

    def pre_auth_features(self, vhost: str, stream: PreAuthStream) -> list[Element]:
        """The stream features the vhost's modules offer before authentication."""
        out: list[Element] = []
        for ctx in self.loaded.get(vhost, []):
            pre_auth = ctx.module.pre_auth
            if pre_auth is not None and pre_auth.feature is not None:
                feature = pre_auth.feature(ctx, stream)
                if feature is not None:
                    out.append(feature)
        return out

    def pre_auth_handler(self, vhost: str, namespace: str, element: str) -> tuple[ModuleContext, PreAuth] | None:
        """The module answering a pre-auth IQ whose payload is ``{namespace}element``, if any."""
        for ctx in self.loaded.get(vhost, []):
            pre_auth = ctx.module.pre_auth
            if pre_auth is not None and pre_auth.ns == namespace and pre_auth.element == element:
                return ctx, pre_auth
        return None

    def is_loaded(self, vhost: str, name: str) -> bool:
        return any(ctx.module.name == name for ctx in self.loaded.get(vhost, []))
