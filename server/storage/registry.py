"""Every feature store there is: each module of `tigase_py.server.stores` declares its `StoreSpec`.

Adding a store is adding a file there; nothing here names one. The CLI (`tigase-py user delete`
without a running server) sees the same stores as the server, whatever modules the config enables,
because their tables exist either way.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from tigase_py.server.storage.spec import StoreSpec

STORES_PACKAGE = "tigase_py.server.stores"


@cache
def discover(package: str = STORES_PACKAGE) -> tuple[StoreSpec[Any], ...]:
    """The StoreSpecs declared at module level in `package`'s modules, ordered by store name."""
    root = importlib.import_module(package)
    found: dict[str, StoreSpec[Any]] = {}
    for info in pkgutil.iter_modules(root.__path__, f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, StoreSpec) and found.setdefault(value.name, value) is not value:
                raise ValueError(f"two stores are named {value.name!r}")
    return tuple(found[name] for name in sorted(found))
