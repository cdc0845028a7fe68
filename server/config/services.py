"""``[services.<module>]`` and ``[vhosts."<vhost>".services.<module>]``: where hosted services run.

    [services.pubsub]              # every vhost
    subdomain = "pubsub"           # pubsub.<vhost>; default: the module's own
    name = "Publish-Subscribe"     # the item's name in the vhost's disco#items
    enabled = true

    [vhosts."example.com".services.pubsub]
    enabled = false                # not on example.com

Keys are checked when the file is read; that each table names an enabled module which hosts a
service, and that no two services of a configured vhost share a domain, is checked once the modules
are imported (:func:`check_services`).
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from tigase_py.server.config import schema, types
from tigase_py.server.config.errors import ConfigError
from tigase_py.server.core.services import bind, parse_subdomain

if TYPE_CHECKING:
    from tigase_py.server.config.sections import Table
    from tigase_py.server.core.module import Module


def _name(value: object) -> str:
    text = types.parse_str(value).strip()
    if not text:
        raise ValueError("expected a non-empty name")
    return text


def read_services(table: Table) -> dict[str, schema.ServiceOptions]:
    """One :class:`ServiceOptions` per ``<module>`` sub-table of ``table``."""
    from tigase_py.server.config.sections import Table

    result: dict[str, schema.ServiceOptions] = {}
    for module in table.data:
        key = table.path_of(module)
        table.seen.add(module)  # which modules exist is known once they are imported: check_services
        sub = Table(table.data[module], key, table.file, table.base)
        result[module] = schema.ServiceOptions(
            subdomain=sub.get("subdomain", parse_subdomain, None),
            enabled=sub.get("enabled", types.parse_bool, None),
            name=sub.get("name", _name, None),
        )
        sub.finish()
    return result


def check_services(config: schema.ServerConfig, modules: list[Module], file: str) -> None:
    """Every services table names an enabled module with a service; no two services share a domain."""
    hosting = {m.name: m for m in modules if m.service is not None}
    tables = [(f"services.{name}", name) for name in config.modules.services]
    for vhost, options in config.vhost_options.items():
        tables.extend((f'vhosts."{vhost}".services.{name}', name) for name in options.services)
    for key, name in tables:
        if name not in config.modules.enabled:
            close = difflib.get_close_matches(name, config.modules.enabled, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ConfigError(f"options given for a module that is not enabled{hint}", file=file, key=key)
        if name not in hosting:
            raise ConfigError(f"module {name!r} hosts no service", file=file, key=key)
    for vhost in config.server.vhosts:
        taken: dict[str, str] = {}
        for name, module in hosting.items():
            assert module.service is not None
            here = config.options_for(vhost).services.get(name)
            binding = bind(name, module.service, vhost, config.modules.services.get(name), here)
            if binding is None:
                continue
            key = (
                f'vhosts."{vhost}".services.{name}.subdomain'
                if name in config.options_for(vhost).services
                else f"services.{name}.subdomain"
            )
            if binding.domain in taken:
                reason = f"{binding.domain} is already the domain of module {taken[binding.domain]!r}'s service"
                raise ConfigError(reason, file=file, key=key)
            if binding.domain in config.server.vhosts:
                raise ConfigError(f"{binding.domain} is a virtual host of its own", file=file, key=key)
            taken[binding.domain] = name
