"""Every feature store there is: those of `tigase_py.server.stores`, and those installed modules declare.

A built-in store is a `StoreSpec` declared at module level in `tigase_py.server.stores`; adding one is
adding a file there, and nothing here names it. A third-party distribution's module (an entry point in
the `tigase_py.modules` group, see `server/modules/README.md`) brings its stores in `Module(stores=...)`.

The CLI (`tigase-py user delete` without a running server) sees the same stores as the server, whatever
modules the config enables, because their tables exist either way: every installed third-party module
is asked, enabled or not. One that fails to import is skipped with a one-line warning, so the built-in
stores stay reachable.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from functools import cache
from typing import Any

from tigase_py.server.storage.spec import StoreSpec

STORES_PACKAGE = "tigase_py.server.stores"

log = logging.getLogger("tigase_py.storage")


@cache
def discover() -> tuple[StoreSpec[Any], ...]:
    """The built-in stores and those of every installed third-party module, ordered by store name."""
    found = {spec.name: spec for spec in package_stores()}
    for origin, spec in third_party_stores():
        known = found.setdefault(spec.name, spec)
        if known is not spec:
            log.warning("store %r of %s skipped: another store has that name", spec.name, origin)
    return tuple(found[name] for name in sorted(found))


@cache
def package_stores(package: str = STORES_PACKAGE) -> tuple[StoreSpec[Any], ...]:
    """The StoreSpecs declared at module level in `package`'s modules, ordered by store name."""
    root = importlib.import_module(package)
    found: dict[str, StoreSpec[Any]] = {}
    for info in pkgutil.iter_modules(root.__path__, f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, StoreSpec) and found.setdefault(value.name, value) is not value:
                raise ValueError(f"two stores are named {value.name!r}")
    return tuple(found[name] for name in sorted(found))


def third_party_stores() -> list[tuple[str, StoreSpec[Any]]]:
    """(origin, spec) for each store in `Module.stores` of each installed `tigase_py.modules` entry point
    that a built-in module does not shadow. An entry point that fails to load is warned about and skipped."""
    from tigase_py.server.core import module_names

    found: list[tuple[str, StoreSpec[Any]]] = []
    for point in module_names.entry_points():
        if module_names.is_builtin(point.name):
            continue
        try:
            module = module_names.load_entry_point(point)
        except module_names.ModuleNameError as exc:
            log.warning("%s; its stores are left out", exc)
            continue
        origin = f"module {point.name!r} of {module_names.distribution_of(point)}"
        found.extend((origin, spec) for spec in module.stores)
    return found
