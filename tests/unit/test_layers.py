"""The import direction between the server's layers, checked on the source text (see server/README.md).

Every import counts: module level, inside functions, under ``TYPE_CHECKING``, relative ones, and
``importlib.import_module("...")`` with a literal name. Nothing is allow-listed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "tigase_py"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def resolve_relative(current: str, is_package: bool, level: int, target: str | None) -> str:
    base = current.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imported_names(path: Path, current: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module that ``path`` (module ``current``) imports; ``from X import y`` gives
    both X and X.y, since y may be a submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                source = resolve_relative(current, is_package, node.level, node.module)
            yield node.lineno, source
            for alias in node.names:
                yield node.lineno, f"{source}.{alias.name}"
        elif isinstance(node, ast.Call) and _is_import_module_call(node):
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield node.lineno, argument.value


def _is_import_module_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__") and bool(node.args)


def is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(folder: str, forbidden: str) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, name in imported_names(path, module_name(path)):
            if is_within(name, forbidden):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return sorted(set(found))


# (folder whose files are scanned, package they must not import)
RULES = {
    "server-not-cli": ("server", f"{PACKAGE}.cli"),
    "net-not-modules": ("server/net", f"{PACKAGE}.server.modules"),
    "stream-not-modules": ("server/stream", f"{PACKAGE}.server.modules"),
    "core-not-modules": ("server/core", f"{PACKAGE}.server.modules"),
    "stores-not-modules": ("server/stores", f"{PACKAGE}.server.modules"),
    "storage-not-modules": ("server/storage", f"{PACKAGE}.server.modules"),
    "stores-not-stream": ("server/stores", f"{PACKAGE}.server.stream"),
    "storage-not-stream": ("server/storage", f"{PACKAGE}.server.stream"),
}


@pytest.mark.parametrize(
    "rule",
    [
        "server-not-cli",
        "net-not-modules",
        "stream-not-modules",
        "core-not-modules",
        "stores-not-modules",
        "storage-not-modules",
        "stores-not-stream",
        "storage-not-stream",
    ],
)
def test_layer_imports_go_one_way(rule: str) -> None:
    folder, forbidden = RULES[rule]
    assert violations(folder, forbidden) == []


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The scanner itself: a file with each import form is reported once per form."""
    source = tmp_path / "sample.py"
    source.write_text(
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "import tigase_py.cli.main\n"
        "from tigase_py import cli\n"
        "if TYPE_CHECKING:\n"
        "    from tigase_py.cli.console import error\n"
        "def late():\n"
        "    from tigase_py.cli import context\n"
        "    importlib.import_module('tigase_py.cli.errors')\n",
        encoding="utf-8",
    )
    found = list(imported_names(source, "tigase_py.server.sample"))
    lines = sorted({line for line, name in found if is_within(name, f"{PACKAGE}.cli")})
    assert lines == [3, 4, 6, 8, 9]


def test_relative_imports_resolve_against_the_package(tmp_path: Path) -> None:
    assert resolve_relative("tigase_py.server.stream.c2s", False, 2, "modules") == "tigase_py.server.modules"
    assert resolve_relative("tigase_py.server.stream", True, 1, "sasl") == "tigase_py.server.stream.sasl"
    source = tmp_path / "c2s.py"
    source.write_text("from ..modules import register\n", encoding="utf-8")
    names = {name for _, name in imported_names(source, "tigase_py.server.stream.c2s")}
    assert "tigase_py.server.modules.register" in names
