"""How a name in ``[modules] enabled`` is resolved: built-in first, then ``tigase_py.modules`` entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from tigase_py.server.core import module_names
from tigase_py.server.core.registry import ModuleLoadError, import_module
from tigase_py.server.modules import ping

GROUP = module_names.ENTRY_POINT_GROUP


def installed(monkeypatch: pytest.MonkeyPatch, *points: tuple[str, str]) -> None:
    """Pretend these entry points are installed (no distribution: named "an unnamed distribution")."""
    found = [EntryPoint(name, value, GROUP) for name, value in points]
    monkeypatch.setattr(module_names, "entry_points", lambda: sorted(found, key=lambda p: p.name))


def test_builtin_module_wins_without_reading_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_scan() -> list[EntryPoint]:
        raise AssertionError("entry points read for a built-in name")

    monkeypatch.setattr(module_names, "entry_points", no_scan)
    assert module_names.find_module("ping") is ping.module


def test_entry_point_by_module_or_attribute() -> None:
    # A declaration whose name is the entry point's: ping's, through both spellings of the value.
    for value in ("tigase_py.server.modules.ping", "tigase_py.server.modules.ping:module"):
        assert module_names.load_entry_point(EntryPoint("ping", value, GROUP)) is ping.module


def test_unknown_name_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch)
    with pytest.raises(ModuleLoadError) as caught:
        import_module("nosuch")
    assert str(caught.value) == f"unknown module 'nosuch': {module_names.NOT_FOUND}"
    with pytest.raises(ModuleLoadError, match="unknown module 'roster.items'"):
        import_module("roster.items")  # not an identifier: never imported as a built-in path


def test_entry_point_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(
        monkeypatch,
        ("twice", "tigase_py.server.modules.ping:module"),
        ("twice", "tigase_py.server.modules.time:module"),
        ("renamed", "tigase_py.server.modules.ping:module"),
        ("empty", "tigase_py.server.xml.ns"),
        ("broken", "tigase_py.no_such_package:module"),
    )
    expected = {
        "twice": "module 'twice' is declared by more than one distribution",
        "renamed": "module 'renamed': entry point 'tigase_py.server.modules.ping:module' of an unnamed distribution "
        "declares Module(name='ping')",
        "empty": "module 'empty': entry point 'tigase_py.server.xml.ns' of an unnamed distribution declares no Module",
        "broken": "module 'broken': entry point 'tigase_py.no_such_package:module' of an unnamed distribution failed "
        "to import: ModuleNotFoundError: No module named 'tigase_py.no_such_package'",
    }
    for name, message in expected.items():
        with pytest.raises(ModuleLoadError) as caught:
            import_module(name)
        assert str(caught.value).startswith(message)
        assert "\n" not in str(caught.value)


def test_available_lists_builtins_then_third_party(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, ("ping", "tigase_py.server.modules.ping:module"), ("zz", "tigase_py.nope:module"))
    found = module_names.available()
    builtins = [item for item in found if item.origin == "built-in"]
    assert [item.name for item in builtins] == sorted(item.name for item in builtins)
    assert {"ping", "roster", "presence", "adhoc"} <= {item.name for item in builtins}
    assert all(item.module is not None and not item.error for item in builtins)
    third = [item for item in found if item.origin != "built-in"]
    assert [(item.name, item.error.split(":")[0]) for item in third] == [
        ("ping", "shadowed by the built-in module"),
        ("zz", "module 'zz'"),
    ]
    assert third[1].module is None
