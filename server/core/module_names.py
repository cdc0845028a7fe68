"""Find a module by the name given in ``[modules] enabled``: built-in first, then installed distributions.

A built-in module is ``tigase_py.server.modules.<name>``. Any other distribution offers modules through
entry points in the ``tigase_py.modules`` group (see ``server/modules/README.md``)::

    [project.entry-points."tigase_py.modules"]
    hello = "tigase_hello:module"        # or "tigase_hello", a Python module with a ``module`` attribute

Entry points are only looked up for a name that is not built in, so a server with built-in modules
only never scans the installed distributions.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from tigase_py.server.core.module import Module

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "tigase_py.modules"
BUILTIN_PACKAGE = "tigase_py.server.modules"


NOT_FOUND = f"not built in, and no installed distribution declares it (entry point group {ENTRY_POINT_GROUP!r})"


class ModuleNameError(Exception):
    """A name in ``[modules] enabled`` that no built-in module or entry point answers, or one that fails to load."""


@dataclass(frozen=True, slots=True)
class Available:
    """One loadable module, as ``tigase-py modules list`` shows it."""

    name: str
    origin: str  # "built-in" or the distribution's "name version"
    source: str  # the Python module (built-in) or the entry point's value
    module: Module | None
    error: str = ""


def is_builtin(name: str) -> bool:
    if not name.isidentifier():
        return False
    return importlib.util.find_spec(f"{BUILTIN_PACKAGE}.{name}") is not None


def builtin_names() -> list[str]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))


def entry_points() -> list[EntryPoint]:
    from importlib import metadata

    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)


def entry_point_names() -> set[str]:
    return {point.name for point in entry_points()}


def find_module(name: str) -> Module:
    """The declaration named ``name``; raises ModuleNameError with a one-line reason."""
    if is_builtin(name):
        source = f"{BUILTIN_PACKAGE}.{name}"
        return _declaration(name, importlib.import_module(source), source)
    points = [point for point in entry_points() if point.name == name]
    if not points:
        raise ModuleNameError(f"unknown module {name!r}: {NOT_FOUND}")
    if len(points) > 1:
        owners = ", ".join(sorted(distribution_of(point) for point in points))
        raise ModuleNameError(f"module {name!r} is declared by more than one distribution: {owners}")
    return load_entry_point(points[0])


def load_entry_point(point: EntryPoint) -> Module:
    where = f"entry point {point.value!r} of {distribution_of(point)}"
    try:
        loaded = point.load()
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ModuleNameError(f"module {point.name!r}: {where} failed to import: {reason}") from None
    return _declaration(point.name, loaded, where)


def _declaration(name: str, loaded: object, where: str) -> Module:
    declaration = getattr(loaded, "module", None) if isinstance(loaded, ModuleType) else loaded
    if not isinstance(declaration, Module):
        raise ModuleNameError(f"module {name!r}: {where} declares no Module")
    if declaration.name != name:
        raise ModuleNameError(f"module {name!r}: {where} declares Module(name={declaration.name!r})")
    return declaration


def distribution_of(point: EntryPoint) -> str:
    dist = point.dist
    return f"{dist.name} {dist.version}" if dist is not None else "an unnamed distribution"


def available() -> list[Available]:
    """Every built-in module, then every installed third-party one, each loaded to read its declaration."""
    found = []
    for name in builtin_names():
        source = f"{BUILTIN_PACKAGE}.{name}"
        found.append(_try(name, "built-in", source, functools.partial(find_module, name)))
    builtins = {item.name for item in found}
    for point in entry_points():
        origin = distribution_of(point)
        item = _try(point.name, origin, point.value, functools.partial(load_entry_point, point))
        if point.name in builtins:
            item = Available(item.name, origin, item.source, item.module, "shadowed by the built-in module")
        found.append(item)
    return found


def _try(name: str, origin: str, source: str, load: Callable[[], Module]) -> Available:
    try:
        return Available(name, origin, source, load())
    except ModuleNameError as exc:
        return Available(name, origin, source, None, str(exc))
