"""Hosted services: a module's service on a subdomain of each vhost (``pubsub.example.com``).

A module declares its service once, at the end of its ``Module(...)``::

    module = Module(
        name="pubsub",
        features=[...],                                   # the vhost's own features, as before
        service=HostedService(
            default_subdomain="pubsub",
            identities=[Identity("pubsub", "service", "Publish-Subscribe")],
            features=[ns.DISCO_INFO, ns.DISCO_ITEMS, ns.PUBSUB],
        ),
    )

When the registry starts the module on a vhost, it binds the service to ``<subdomain>.<vhost>``
unless the config disables it there (``[services.pubsub]``, then ``[vhosts."<vhost>".services.pubsub]``:
``subdomain``, ``enabled``, ``name``). The binding is registered in the router's
:class:`ServiceTable` and undone with the module, so a vhost removed at run time takes its services
with it. Stanzas addressed to the service domain, to ``node@`` it or to full JIDs under it reach the
module's handlers declared with ``to="service"`` / ``"service_node"`` / ``"service_full"`` (IQ) and
``@module.message("service")`` / ``@module.presence("service")``. The disco module answers disco#info
(the declared identities and features) and lists the service in the vhost's disco#items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServiceOptions
    from tigase_py.server.core.module import Identity

SERVICE_ADDRESSING = ("service", "service_node", "service_full")
_SUBDOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def parse_subdomain(value: object) -> str:
    """One or more DNS labels put in front of a vhost (``pubsub``, ``muc.chat``), lower-cased."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) > 190 or not _SUBDOMAIN.match(text):
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
        raise ValueError(f'expected a subdomain like "pubsub", got {shown}')
    return text


@final
@dataclass(frozen=True, slots=True)
class HostedService:
    """The declaration of a service a module runs on a subdomain of each vhost.

    ``identities`` and ``features`` are the service's own disco#info; ``name`` is the default name of
    its item in the vhost's disco#items; ``enabled`` is the default when the config says nothing.
    """

    default_subdomain: str
    identities: Sequence[Identity] = ()
    features: Sequence[str] = ()
    name: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_subdomain", parse_subdomain(self.default_subdomain))
        object.__setattr__(self, "identities", tuple(self.identities))
        object.__setattr__(self, "features", tuple(self.features))


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """One running service: the module ``module`` serves ``domain`` on behalf of ``vhost``."""

    module: str
    vhost: str
    domain: str
    name: str
    declaration: HostedService


def bind(
    module: str,
    declaration: HostedService,
    vhost: str,
    everywhere: ServiceOptions | None,
    here: ServiceOptions | None,
) -> ServiceBinding | None:
    """Where ``module``'s service runs on ``vhost``, or None when the config disables it there.

    ``here`` (``[vhosts."<vhost>".services.<module>]``) wins over ``everywhere`` (``[services.<module>]``),
    which wins over the declaration.
    """
    layers = [layer for layer in (here, everywhere) if layer is not None]

    def first(attribute: str, default: object) -> object:
        for layer in layers:
            value = getattr(layer, attribute)
            if value is not None:
                return value
        return default

    if not first("enabled", declaration.enabled):
        return None
    subdomain = str(first("subdomain", declaration.default_subdomain))
    name = str(first("name", declaration.name))
    return ServiceBinding(module, vhost, f"{subdomain}.{vhost}", name, declaration)


class ServiceTable:
    """The service domains served now, for the router (by domain) and disco (by vhost)."""

    def __init__(self) -> None:
        self._by_domain: dict[str, ServiceBinding] = {}

    def add(self, binding: ServiceBinding, served: Callable[[str], bool]) -> Callable[[], None]:
        """Serve ``binding.domain``; ``served`` says whether a domain is a vhost. Return the undo."""
        domain = binding.domain
        holder = self._by_domain.get(domain)
        if holder is not None:
            raise ValueError(f"{domain} is already served by module {holder.module!r} of {holder.vhost}")
        if served(domain):
            raise ValueError(f"{domain} is a virtual host of its own")
        self._by_domain[domain] = binding

        def undo() -> None:
            if self._by_domain.get(domain) is binding:
                del self._by_domain[domain]

        return undo

    def get(self, domain: str) -> ServiceBinding | None:
        return self._by_domain.get(domain)

    def of_vhost(self, vhost: str) -> list[ServiceBinding]:
        return sorted((b for b in self._by_domain.values() if b.vhost == vhost), key=lambda b: b.domain)

    def __contains__(self, domain: object) -> bool:
        return domain in self._by_domain

    def __len__(self) -> int:
        return len(self._by_domain)
