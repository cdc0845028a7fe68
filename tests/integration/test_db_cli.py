"""`tigase-py db` on SQLite and a real MariaDB: idempotent init, status --json, exit codes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.storage_fixtures import MariaDB, _free_port
from tigase_py.cli.commands.db import app
from tigase_py.server.storage.migrate import head_revision

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(stderr: str) -> None:
    assert stderr.startswith("error: ")
    assert stderr.count("\n") == 1
    assert "Traceback" not in stderr


def test_init_twice_is_idempotent(storage_url: str) -> None:
    code, _, err = invoke("init", "--url", storage_url)
    assert code == 0, err
    assert f"-> {head_revision()}" in err
    code, _, err = invoke("init", "--url", storage_url)
    assert code == 0, err
    assert "already at head" in err


def test_status_json(storage_url: str) -> None:
    code, out, err = invoke("status", "--json", "--url", storage_url)
    if storage_url.startswith("sqlite"):
        assert code == 3 and "does not exist" in err  # no file yet: nothing to inspect
        assert out == ""
        assert invoke("init", "--url", storage_url)[0] == 0
    else:
        assert code == 0, err
        document = json.loads(out)
        assert document["current"] is None and document["upgrade_needed"] is True
        assert invoke("upgrade", "--url", storage_url)[0] == 0
    code, out, err = invoke("status", "--json", "--url", storage_url)
    assert code == 0, err
    document = json.loads(out)
    assert document == {
        "url": document["url"],
        "current": head_revision(),
        "head": head_revision(),
        "branches": ["core", "pubsub"],
        "upgrade_needed": False,
    }
    assert "secret" not in document["url"]


def test_status_text(sqlite_url: str) -> None:
    invoke("init", "--url", sqlite_url)
    code, out, _ = invoke("status", "--url", sqlite_url)
    assert code == 0
    assert f"current:   {head_revision()}" in out
    assert "not needed" in out


def test_upgrade_missing_sqlite_file(tmp_path: Path) -> None:
    code, out, err = invoke("upgrade", "--url", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 3
    assert_one_line_error(err)
    assert "tigase-py db init" in err


def test_unreachable_database_exits_3() -> None:
    code, out, err = invoke("status", "--url", f"mysql://u:p@127.0.0.1:{_free_port()}/tigase")
    assert code == 3
    assert out == ""
    assert_one_line_error(err)
    assert "cannot connect to mysql at 127.0.0.1:" in err


def test_malformed_url_exits_2() -> None:
    code, _, err = invoke("status", "--url", "postgresql://u@h/db")
    assert code == 2
    assert_one_line_error(err)
    assert "unsupported database URL scheme" in err


@pytest.mark.mariadb
def test_refused_login_exits_3(mariadb_url: str) -> None:
    code, out, err = invoke("init", "--url", mariadb_url.replace(":tigase-secret@", ":wrong@"))
    assert code == 3
    assert out == ""
    assert_one_line_error(err)
    assert "Access denied for user 'tigase'" in err


@pytest.mark.mariadb
def test_init_with_admin_url_provisions_database_and_user(mariadb_server: MariaDB) -> None:
    name = f"p_{uuid.uuid4().hex[:12]}"
    user = f"u_{uuid.uuid4().hex[:8]}"
    args = ["init", "--admin-url", mariadb_server.admin_url, "--db-name", name, "--db-user", user]
    try:
        code, _, err = invoke(*args, "--db-password", "pw'with\"quotes%")
        assert code == 0, err
        assert f"database {name} and user {user} ready" in err
        assert "pw'with" not in err
        code, _, err = invoke(*args, "--db-password", "second-password")
        assert code == 0, err
        assert "already at head" in err
        url = mariadb_server.url(name, user=user, password="second-password")
        code, out, err = invoke("status", "--json", "--url", url)
        assert code == 0, err
        assert json.loads(out)["upgrade_needed"] is False
        assert "users" in mariadb_server.sql(f"SHOW TABLES IN {name}")
    finally:
        mariadb_server.sql(f"DROP DATABASE IF EXISTS {name}; DROP USER IF EXISTS '{user}'@'%', '{user}'@'localhost';")


@pytest.mark.mariadb
def test_admin_url_with_wrong_password_exits_3(mariadb_server: MariaDB) -> None:
    admin = mariadb_server.admin_url.replace(":admin-secret@", ":nope@")
    code, _, err = invoke("init", "--admin-url", admin, "--db-name", "x", "--db-user", "y", "--db-password", "z")
    assert code == 3
    assert_one_line_error(err)


def test_admin_url_needs_names() -> None:
    code, _, err = invoke("init", "--admin-url", "mysql://root:pw@127.0.0.1:1/")
    assert code == 2
    assert_one_line_error(err)


def test_invalid_database_name_exits_2() -> None:
    admin = "mysql://root:pw@127.0.0.1:1/"
    code, _, err = invoke("init", "--admin-url", admin, "--db-name", "x;drop", "--db-user", "u", "--db-password", "p")
    assert code == 2
    assert_one_line_error(err)


def test_url_defaults_to_the_config(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tigase_py.cli import context

    monkeypatch.setattr(context, "storage_url_from_config", lambda: sqlite_url)
    code, _, err = invoke("init")
    assert code == 0, err
    code, out, _ = invoke("status", "--json")
    assert code == 0
    assert json.loads(out)["upgrade_needed"] is False


def test_importing_the_command_does_not_import_sqlalchemy() -> None:
    import subprocess
    import sys

    probe = "import sys, tigase_py.cli.commands.db; print('sqlalchemy' in sys.modules, 'alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
