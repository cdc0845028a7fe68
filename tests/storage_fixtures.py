"""Storage fixtures: a SQLite file per test and a real MariaDB server per session.

`storage_url` is parametrised over both backends (the MariaDB case is marked `mariadb`), so a
test that takes it runs twice; `feature_stores` adds the in-memory stores, so it runs three times.
Each test gets a fresh, empty database.

MariaDB: started from `mariadb-install-db` + `mariadbd` in a temporary folder on a free port.
Without `mariadbd` the MariaDB cases are skipped, unless CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tigase_py.server.storage.engine import Storage
    from tigase_py.server.storage.spec import Stores

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
ADMIN_USER = "tigase_admin"
ADMIN_PASSWORD = "admin-secret"
APP_USER = "tigase"
APP_PASSWORD = "tigase-secret"
BINARIES = ("mariadbd", "mariadb-install-db", "mariadb")


@dataclass(frozen=True)
class MariaDB:
    """A running server: SQL as root through the socket, clients over TCP on 127.0.0.1."""

    port: int
    socket: Path
    client: str

    def sql(self, statement: str) -> str:
        done = subprocess.run(
            [self.client, "--no-defaults", "-uroot", f"--socket={self.socket}", "-N", "-e", statement],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mariadb client failed on {statement!r}: {done.stderr.strip()}")
        return done.stdout

    def url(self, database: str = "", user: str = APP_USER, password: str = APP_PASSWORD) -> str:
        return f"mysql+asyncmy://{user}:{password}@127.0.0.1:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        return f"mysql://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}/"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binaries() -> tuple[str, str, str] | None:
    search = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin"
    server, installer, client = (shutil.which(name, path=search) for name in BINARIES)
    if server is None or installer is None or client is None:
        return None
    return server, installer, client


def _log_tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    except OSError:
        return "(no log)"


def _wait_ready(server: MariaDB, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll by actually connecting, until the server answers or the deadline passes."""
    deadline = time.monotonic() + START_TIMEOUT_S
    delay = 0.05
    while True:
        if process.poll() is not None:
            pytest.fail(f"mariadbd exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            server.sql("SELECT 1")
            return
        except (RuntimeError, subprocess.TimeoutExpired):
            if time.monotonic() > deadline:
                pytest.fail(f"mariadbd not ready after {START_TIMEOUT_S:.0f}s:\n{_log_tail(log)}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def require_mariadb() -> tuple[str, str, str]:
    """The mariadbd, installer and client binaries; skip without them (fail under CI=true)."""
    binaries = _binaries()
    if binaries is None:
        reason = "mariadbd / mariadb-install-db / mariadb not installed (apt-get install mariadb-server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return binaries


def install_mariadb(root: Path) -> None:
    """An empty data directory under `root` (mariadb-install-db)."""
    _, installer, _ = require_mariadb()
    install = subprocess.run(
        [
            installer,
            "--no-defaults",
            f"--datadir={root / 'data'}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if install.returncode != 0:
        pytest.fail(f"mariadb-install-db failed: {install.stderr.strip() or install.stdout.strip()}")


def start_mariadb(root: Path, port: int | None = None) -> tuple[MariaDB, subprocess.Popen[bytes]]:
    """Run mariadbd on the data directory under `root` (see `install_mariadb`) and wait until it answers."""
    server_bin, _, client = require_mariadb()
    log = root / "mariadbd.log"
    server = MariaDB(port=port or _free_port(), socket=root / "mariadb.sock", client=client)
    process = subprocess.Popen(
        [
            server_bin,
            "--no-defaults",
            f"--datadir={root / 'data'}",
            f"--socket={server.socket}",
            f"--port={server.port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-networking=0",
            f"--pid-file={root / 'mariadbd.pid'}",
            f"--log-error={log}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=2",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(server, process, log)
    except BaseException:
        stop_mariadb(process)
        raise
    return server, process


def stop_mariadb(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    require_mariadb()
    root = tmp_path_factory.mktemp("mariadb")
    install_mariadb(root)
    server, process = start_mariadb(root)
    try:
        server.sql(
            f"CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}';"
            f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;"
            f"CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}';"
        )
        yield server
    finally:
        stop_mariadb(process)


@pytest.fixture(scope="session")
def mariadb_url(mariadb_server: MariaDB) -> str:
    """An async URL to the session's shared database `tigase`, as the unprivileged user."""
    mariadb_server.sql(
        "CREATE DATABASE IF NOT EXISTS tigase CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
        f"GRANT ALL PRIVILEGES ON tigase.* TO '{APP_USER}'@'%';"
    )
    return mariadb_server.url("tigase")


@pytest.fixture
def fresh_mariadb_url(mariadb_server: MariaDB) -> Iterator[str]:
    """A uniquely named empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    mariadb_server.sql(
        f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
        f"GRANT ALL PRIVILEGES ON {name}.* TO '{APP_USER}'@'%';"
    )
    yield mariadb_server.url(name)
    mariadb_server.sql(f"DROP DATABASE IF EXISTS {name};")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}"


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def storage_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database URL on each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_mariadb_url"))


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    """An open `Storage` with the schema at head, on each backend."""
    from tigase_py.server.storage.engine import open_storage

    opened = await open_storage(storage_url, create=True)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
async def feature_stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """Every registered feature store, on each implementation: in memory, SQLite and MariaDB.

    A contract test takes this fixture and asserts the same behaviour of all three.
    """
    from tigase_py.server.storage.engine import open_storage
    from tigase_py.server.storage.memory import MemoryStorage

    if request.param == "memory":
        yield MemoryStorage().stores
        return
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_mariadb_url"))
    opened = await open_storage(url, create=True)
    try:
        yield opened.stores
    finally:
        await opened.close()
