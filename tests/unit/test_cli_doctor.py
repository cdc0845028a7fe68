"""`tigase-py doctor` through CliRunner: the table, --json, one stderr line per problem, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.server.config import load

runner = CliRunner()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main.app, ["init", "site", "--vhost", "example.org"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "site" / "tigase.toml"
    monkeypatch.setenv(load.ENV_VAR, str(path))
    return path


def test_doctor_on_a_fresh_init_has_no_problem(site: Path) -> None:
    result = runner.invoke(main.app, ["doctor", "certificates", "permissions", "database", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["problems"] == []
    checks = {finding["check"] for finding in document["findings"]}
    assert checks == {"certificates", "permissions", "database"}
    assert result.stderr == ""


def test_doctor_prints_one_line_per_problem_and_exits_1(site: Path) -> None:
    site.chmod(0o644)
    result = runner.invoke(main.app, ["doctor", "permissions", "certificates"])
    assert result.exit_code == 1
    assert "PROBLEM" in result.stdout and "certificates" in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"error: permissions: {site}: mode 0644: any user may read this secret (chmod o-r {site})"
    ]


def test_doctor_unknown_check_is_a_usage_error(site: Path) -> None:
    result = runner.invoke(main.app, ["doctor", "dns"])
    assert result.exit_code == 2
    assert "unknown check 'dns'" in result.stderr and "open-files" in result.stderr


def test_doctor_without_a_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(load.ENV_VAR, str(tmp_path / "missing.toml"))
    result = runner.invoke(main.app, ["doctor"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_doctor_flags_a_server_secret_others_can_read(site: Path) -> None:
    secret = site.parent / "server-secret"
    secret.write_bytes(b"s" * 32)
    secret.chmod(0o644)
    result = runner.invoke(main.app, ["doctor", "permissions"])
    assert result.exit_code == 1
    assert f"error: permissions: {secret}: mode 0644: any user may read this secret" in result.stderr
