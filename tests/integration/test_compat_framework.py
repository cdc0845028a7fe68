"""The compat framework's pure parts: targets, levels, deviations, and no server imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tigase_py.compat_tests import levels
from tigase_py.compat_tests.plugin import load_deviations
from tigase_py.compat_tests.target import Target, TargetError, dump_target, load_target

COMPAT = Path(__file__).resolve().parents[2] / "compat_tests"


def test_target_round_trip(tmp_path):
    path = tmp_path / "t.toml"
    accounts = 'accounts = ["a@d:pw", {jid = "b@d", password = "x"}]'
    path.write_text(f'[target]\nhost = "h"\nport = 5222\ndomain = "d"\n{accounts}\n')
    target = load_target(path)
    assert [a.jid for a in target.accounts] == ["a@d", "b@d"]
    path.write_text(dump_target(target))
    assert load_target(path) == target


def test_target_rejects_bad_tls():
    with pytest.raises(TargetError):
        Target(host="h", port=5222, domain="d", tls="maybe")  # type: ignore[arg-type]


def test_levels_need_every_case_and_prerequisites():
    cases = [
        {"id": "a", "categories": ["Core Server"], "outcome": "passed"},
        {"id": "b", "categories": ["Core IM"], "outcome": "passed"},
        {"id": "c", "categories": ["Advanced IM"], "outcome": "not-supported"},
    ]
    result = levels.compute(cases)
    assert result["Core Server"]["reached"] and result["Core IM"]["reached"]
    assert not result["Advanced IM"]["reached"] and result["Advanced IM"]["missing"] == ["c"]
    assert not result["Core Web"]["reached"]


def test_deviation_files_are_valid():
    for path in (COMPAT / "deviations").glob("*.toml"):
        load_deviations(str(path))


def test_no_server_imports_under_compat_tests():
    for path in COMPAT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.startswith(("tigase_py.server", "server")) for n in names), path
