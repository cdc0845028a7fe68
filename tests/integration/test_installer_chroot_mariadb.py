"""`tigase-py install --db-admin-url` into a Debian 12 root, against a real MariaDB on this machine's loopback.

The root shares this machine's network, so the server installed in it reaches the `mariadb_server`
fixture on 127.0.0.1. The installer creates the database and its account, initialises the schema
through the installed `tigase-py db init`, creates the admin account and starts the server.
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import free_port
from tests.integration.chroot_root import (
    ADMIN,
    CHROOT_MARKS,
    PASSWORD,
    PREFIX,
    error_lines,
    fresh_root,
    in_root,
    install,
    processes_in,
    server_running,
)
from tests.storage_fixtures import ADMIN_PASSWORD, ADMIN_USER, MariaDB
from tests.xmpp_harness import login
from tigase_py.installer.database import LOCAL_MARIADB

pytestmark = [*CHROOT_MARKS, pytest.mark.mariadb]

CLI = [f"{PREFIX}/venv/bin/tigase-py", "--config", "/etc/tigase-py/tigase.toml"]


@pytest.fixture
def chroot() -> Iterator[Path]:
    with fresh_root() as root:
        yield root


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tigase_py.installer import wheelhouse

    return wheelhouse.build(tmp_path_factory.mktemp("wheelhouse")).directory


@pytest.fixture
def account(mariadb_server: MariaDB) -> Iterator[tuple[str, str]]:
    """A database and account name nobody uses yet, dropped afterwards: (name, password)."""
    name = f"inst_{uuid.uuid4().hex[:12]}"
    yield name, f"pw-{uuid.uuid4().hex[:12]}"
    mariadb_server.sql(
        f"DROP DATABASE IF EXISTS {name}; DROP USER IF EXISTS '{name}'@'%'; DROP USER IF EXISTS '{name}'@'localhost';"
    )


async def test_install_with_mariadb_creates_database_account_schema_and_admin(
    tmp_path, chroot, mariadb_server, wheels, account
):
    name, db_password = account
    ports = {"c2s": free_port(), "direct": free_port(), "http": free_port()}
    admin_url = f"mysql://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{mariadb_server.port}/"
    db_options = ["--db-admin-url", admin_url, "--db-name", name, "--db-user", name, "--db-password", db_password]

    # The admin login is refused: one line naming the host and the database problem, nothing running.
    wrong_admin = f"mysql://{ADMIN_USER}:not-the-password@127.0.0.1:{mariadb_server.port}/"
    wrong = ["--db-admin-url", wrong_admin, *db_options[2:]]
    refused = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels), *wrong)
    assert refused.returncode == 1, refused.stderr[-3000:]
    (line,) = error_lines(refused.stderr)
    assert line.startswith(f"error: {chroot}: database: cannot connect to mysql at 127.0.0.1:{mariadb_server.port}")
    assert "Access denied" in line and "not-the-password" not in refused.stderr + refused.stdout
    assert not server_running(chroot) and processes_in(chroot) == []
    assert name not in mariadb_server.sql("SHOW DATABASES")

    # A server URL on a port where no database listens: the same kind of line.
    closed = free_port()
    dead = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels), "--db", f"mysql://u:p@127.0.0.1:{closed}/x")
    assert dead.returncode == 1, dead.stderr[-3000:]
    (line,) = error_lines(dead.stderr)
    assert line.startswith(f"error: {chroot}: database: cannot connect to mysql at 127.0.0.1:{closed}"), line
    assert not server_running(chroot) and processes_in(chroot) == []

    first = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels), *db_options)
    assert first.returncode == 0, first.stderr[-3000:]
    (host,) = json.loads(first.stdout)["hosts"]
    assert {"Report the schema", "Report the admin account"} <= set(host["changed_tasks"])
    assert {c["name"]: c["ok"] for c in host["checks"]} == {"xmpp": True, "http": True}
    assert db_password not in first.stdout + first.stderr

    # The database and the account exist, the account reaches only its database, the schema is at head.
    assert name in mariadb_server.sql("SHOW DATABASES").split()
    hosts = mariadb_server.sql(f"SELECT host FROM mysql.user WHERE user = '{name}' ORDER BY host").split()
    assert hosts == ["%", "localhost"]
    assert f"ON `{name}`.*" in mariadb_server.sql(f"SHOW GRANTS FOR '{name}'@'%'")
    assert mariadb_server.sql(f"SELECT COUNT(*) FROM {name}.alembic_version").strip() == "1"
    config = tomllib.loads((chroot / "etc/tigase-py/tigase.toml").read_text())
    assert config["storage"]["url"] == f"mysql://{name}:{db_password}@127.0.0.1:{mariadb_server.port}/{name}"
    status = in_root(chroot, *CLI, "db", "status", "--json")
    assert status.returncode == 0, status.stderr
    schema = json.loads(status.stdout)
    assert schema["upgrade_needed"] is False and schema["current"] == schema["head"]
    users = in_root(chroot, *CLI, "user", "list", "--json")
    assert ADMIN in json.loads(users.stdout)["users"], users.stderr

    # The installed server logs the admin in against MariaDB.
    client = await login(SimpleNamespace(starttls_port=ports["c2s"], clients=[]), ADMIN, PASSWORD)  # type: ignore[arg-type]
    client.disconnect()

    second = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels), *db_options)
    assert second.returncode == 0, second.stderr[-3000:]
    (again,) = json.loads(second.stdout)["hosts"]
    assert again["changed"] == 0, again["changed_tasks"]


def mariadb_port_taken() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", LOCAL_MARIADB[1])) == 0


# apt fetching and installing MariaDB in the root adds about 3 minutes: outside the default run's budget.
@pytest.mark.skipif(
    os.environ.get("TIGASE_PY_TEST_INSTALL_MARIADB") != "1", reason="set TIGASE_PY_TEST_INSTALL_MARIADB=1 to run"
)
@pytest.mark.skipif(mariadb_port_taken(), reason="127.0.0.1:3306 is taken; --install-mariadb's server needs it")
async def test_install_mariadb_installs_and_starts_it_without_systemd(tmp_path, chroot, wheels):
    ports = {"c2s": free_port(), "direct": free_port(), "http": free_port()}
    options = ["--wheelhouse", str(wheels), "--install-mariadb", "--db-password", "local-db-secret"]

    # apt fetches MariaDB into the root (the root reaches deb.debian.org through this machine's network).
    first = install(tmp_path, chroot, ports, *options)
    assert first.returncode == 0, first.stderr[-3000:]
    (host,) = json.loads(first.stdout)["hosts"]
    assert {"Install the MariaDB server (Debian family)", "Start MariaDB with its init script"} <= set(
        host["changed_tasks"]
    )  # systemd is not PID 1 in the root: Debian's init script starts it
    assert {c["name"]: c["ok"] for c in host["checks"]} == {"xmpp": True, "http": True}
    assert any(Path(f"/proc/{pid}/exe").resolve().name == "mariadbd" for pid in processes_in(chroot))
    config = tomllib.loads((chroot / "etc/tigase-py/tigase.toml").read_text())
    assert config["storage"]["url"] == "mysql://tigase:local-db-secret@127.0.0.1:3306/tigase"
    status = in_root(chroot, *CLI, "db", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["upgrade_needed"] is False, status.stderr
    client = await login(SimpleNamespace(starttls_port=ports["c2s"], clients=[]), ADMIN, PASSWORD)  # type: ignore[arg-type]
    client.disconnect()

    second = install(tmp_path, chroot, ports, *options)
    assert second.returncode == 0, second.stderr[-3000:]
    (again,) = json.loads(second.stdout)["hosts"]
    assert again["changed"] == 0, again["changed_tasks"]
