"""Store discovery: the built-in stores plus the `Module.stores` of every installed third-party module."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from types import ModuleType
from typing import Any

import pytest

from tigase_py.server.core import module_names
from tigase_py.server.core.module import Module
from tigase_py.server.storage import registry
from tigase_py.server.storage.memory import MemoryOwnerStore, MemoryStorage
from tigase_py.server.storage.spec import AccountData, Exported, StoreSpec
from tigase_py.server.stores.roster import ROSTER


class MemoryNoteStore(MemoryOwnerStore[str]):
    async def export_account(self, owner: str) -> Exported:
        return self._owners.get(owner)


def memory_only(name: str) -> StoreSpec[Any]:
    return StoreSpec[Any](name, AccountData, sql=lambda db: MemoryNoteStore(), memory=MemoryNoteStore)


NOTES = memory_only("plugin_notes")
ROSTER_AGAIN = memory_only("roster")  # a different store under a built-in store's name
SHADOWED = memory_only("shadowed_notes")


def declaring(name: str, *stores: StoreSpec[Any]) -> ModuleType:
    python_module = ModuleType(f"fake_plugin_{name}")
    setattr(python_module, "module", Module(name=name, stores=stores))  # noqa: B010  (a fake Python module)
    return python_module


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Four entry points: a store, a clashing name, a built-in module name, and one that fails to import."""
    fakes = {"notes": declaring("notes", NOTES, ROSTER), "clash": declaring("clash", ROSTER_AGAIN)}
    fakes["ping"] = declaring("ping", SHADOWED)
    for python_module in fakes.values():
        monkeypatch.setitem(sys.modules, python_module.__name__, python_module)
    points = [EntryPoint(name, f"fake_plugin_{name}", module_names.ENTRY_POINT_GROUP) for name in fakes]
    points.append(EntryPoint("broken", "tigase_py.no_such_plugin:module", module_names.ENTRY_POINT_GROUP))
    monkeypatch.setattr(module_names, "entry_points", lambda: sorted(points, key=lambda point: point.name))
    registry.discover.cache_clear()
    yield
    registry.discover.cache_clear()


def test_installed_modules_stores_join_the_builtin_ones(installed: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tigase_py.storage"):
        found = registry.discover()
    builtin = registry.package_stores()
    assert found == tuple(sorted((*builtin, NOTES), key=lambda spec: spec.name))
    assert ROSTER in found and ROSTER_AGAIN not in found and SHADOWED not in found
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        "module 'broken': entry point 'tigase_py.no_such_plugin:module' of an unnamed distribution failed to import: "
        "ModuleNotFoundError: No module named 'tigase_py.no_such_plugin'; its stores are left out",
        "store 'roster' of module 'clash' of an unnamed distribution skipped: another store has that name",
    ]


async def test_deletion_and_export_reach_a_third_party_store(installed: None) -> None:
    storage = MemoryStorage()
    notes: Any = storage.store(NOTES)
    notes._owners["alice@example.com"] = "remember the milk"
    assert (await storage.export_account("alice@example.com"))["plugin_notes"] == "remember the milk"
    await storage.delete_user_data("alice@example.com")
    assert notes._owners == {}


def test_nothing_installed_is_the_builtin_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module_names, "entry_points", lambda: [])
    registry.discover.cache_clear()
    try:
        assert registry.discover() == registry.package_stores()
    finally:
        registry.discover.cache_clear()
