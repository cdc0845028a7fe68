"""``init`` makes its data private (directory 0700, files 0600); ``config check``, ``status`` and ``init``
warn when other users can read the config or the data (the database holds SCRAM credentials)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.server.config import load, permissions

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def site(tmp_path) -> Path:
    done = runner.invoke(main.app, ["init", str(tmp_path / "site"), "--user", "admin", "--password", "pw"])
    assert done.exit_code == 0, done.output
    assert "warning" not in done.stderr
    return tmp_path / "site"


def test_init_makes_the_directory_and_every_file_private(site):
    assert mode(site) == 0o700
    assert mode(site / "certs") == 0o700
    files = [path for path in site.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"tigase.toml", "tigase.db", "localhost.key", "localhost.crt"}
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_config_check_warns_about_a_database_others_can_read(site):
    (site / "tigase.db").chmod(0o644)
    done = runner.invoke(main.app, ["-c", str(site / "tigase.toml"), "config", "check"])
    assert done.exit_code == 0, done.output
    database = site / "tigase.db"
    expected = f"warning: {database} is readable by other users (mode 0644); run: chmod o-rwx {database}"
    assert expected in done.stderr
    checked = runner.invoke(main.app, ["-c", str(site / "tigase.toml"), "config", "check", "--json"])
    document = json.loads(checked.stdout)
    assert document["permission_warnings"] == [expected.removeprefix("warning: ")]


def test_config_check_is_quiet_on_private_files(site):
    done = runner.invoke(main.app, ["-c", str(site / "tigase.toml"), "config", "check", "--json"])
    assert json.loads(done.stdout)["permission_warnings"] == []
    assert "warning" not in done.stderr


def test_an_open_directory_and_wal_file_are_reported(site):
    site.chmod(0o755)
    (site / "tigase.db-wal").write_bytes(b"")
    (site / "tigase.db-wal").chmod(0o604)
    found = permissions.exposed(load.load_config(site / "tigase.toml"))
    assert [line.split(" is ")[0] for line in found] == [str(site), str(site / "tigase.db-wal")]


def test_status_warns_before_probing(site):
    (site / "tigase.toml").chmod(0o644)
    done = runner.invoke(main.app, ["-c", str(site / "tigase.toml"), "status", "--timeout", "0.5"])
    assert f"warning: {site / 'tigase.toml'} is readable by other users" in done.stderr


def test_init_into_an_existing_open_directory_warns(tmp_path):
    target = tmp_path / "shared"
    target.mkdir(mode=0o755)
    target.chmod(0o755)
    done = runner.invoke(main.app, ["init", str(target)])
    assert done.exit_code == 0, done.output
    assert f"warning: {target} is readable by other users (mode 0755)" in done.stderr
    assert mode(target / "tigase.toml") == 0o600


def test_private_files_restores_the_umask(tmp_path):
    before = os.umask(0o022)
    try:
        with permissions.private_files():
            (tmp_path / "inside").write_text("x")
        (tmp_path / "outside").write_text("x")
    finally:
        os.umask(before)
    assert (mode(tmp_path / "inside"), mode(tmp_path / "outside")) == (0o600, 0o644)
