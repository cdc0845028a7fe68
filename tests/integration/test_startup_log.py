"""The server's start-up: one log line names every listener, the migrations stay quiet at info level, and
the files the server creates (database, WAL/SHM) are private."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import free_ports
from tigase_py.cli import main

READY_TIMEOUT = 30.0


def set_ports(config: Path, c2s: int, direct: int, http: int) -> None:
    text = config.read_text()
    for old, new in ((5222, c2s), (5223, direct), (5280, http)):
        assert f"port = {old}\n" in text
        text = text.replace(f"port = {old}\n", f"port = {new}\n")
    config.write_text(text)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[str, list[int], Path]]:
    """A fresh ``init`` directory (no account: the server creates the database), the server run as
    ``python -m tigase_py.server``; yields (log so far, ports, data directory)."""
    done = CliRunner().invoke(main.app, ["init", str(tmp_path / "site")])
    assert done.exit_code == 0, done.output
    config = tmp_path / "site" / "tigase.toml"
    ports = free_ports(3)
    set_ports(config, *ports)
    log = tmp_path / "server.log"
    env = {key: value for key, value in os.environ.items() if key != "TIGASE_PY_CONFIG"}
    with log.open("wb") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while "ready: listening on" not in log.read_text() and child.poll() is None:
            assert time.monotonic() < deadline, f"no ready line after {READY_TIMEOUT} s:\n{log.read_text()}"
            time.sleep(0.1)
        assert child.poll() is None, f"the server exited:\n{log.read_text()}"
        yield log.read_text(), ports, config.parent
    finally:
        child.terminate()
        child.wait(timeout=20)


def test_ready_line_names_every_listener(started):
    text, (c2s, direct, http), _ = started
    (line,) = [line for line in text.splitlines() if "ready: listening on" in line]
    assert re.search(
        rf"c2s 127\.0\.0\.1:{c2s} \(starttls\), c2s 127\.0\.0\.1:{direct} \(direct\), "
        rf"http 127\.0\.0\.1:{http} \(REST API, /metrics, /jolokia\)$",
        line,
    ), line



def test_migrations_log_nothing_at_info_level(started):
    text, _, _ = started
    assert not [line for line in text.splitlines() if "alembic" in line.lower()], text


def test_the_database_and_its_wal_files_are_private(started):
    _, _, directory = started
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in directory.glob("tigase.db*")}
    assert {"tigase.db", "tigase.db-wal", "tigase.db-shm"} <= set(modes), modes
    assert set(modes.values()) == {0o600}, modes
