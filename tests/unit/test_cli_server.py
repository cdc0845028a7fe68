"""server start/stop/status against a stand-in server process (a script that writes the pidfile and listens)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import helpers
from tigase_py.cli import main
from tigase_py.cli.commands import server

runner = CliRunner()

FAKE_SERVER = """\
#!{python}
import os, signal, socket, sys, time
from pathlib import Path
from tigase_py.server.config.load import load_config
config = load_config(Path(sys.argv[sys.argv.index("--config") + 1]))
if os.environ.get("FAKE_SERVER_FAIL"):
    print("boom: cannot start", flush=True)
    sys.exit(1)
listener = socket.create_server((config.listeners[0].address, config.listeners[0].port))
config.server.pidfile.write_text(f"{{os.getpid()}}\\n")
def stop(*_):
    config.server.pidfile.unlink()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(0.1)
"""


@pytest.fixture
def config_file(tmp_path, monkeypatch) -> Path:
    port = helpers.free_port()
    path = tmp_path / "tigase.toml"
    path.write_text(f'[[listeners]]\nport = {port}\ntls = "none"\nrequire_tls = false\n')
    fake = tmp_path / "fake-python"
    fake.write_text(textwrap.dedent(FAKE_SERVER.format(python=sys.executable)))
    fake.chmod(0o755)
    monkeypatch.setattr(server.sys, "executable", str(fake))
    monkeypatch.setattr(server, "START_TIMEOUT", 10.0)
    yield path
    pid = (tmp_path / "tigase-py.pid").read_text().strip() if (tmp_path / "tigase-py.pid").exists() else ""
    if pid:
        os.kill(int(pid), 9)


def cli(config: Path, *args: str):
    return runner.invoke(main.app, ["-c", str(config), *args])


def test_status_not_running_exits_3(config_file):
    result = cli(config_file, "server", "status", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["running"] is False


def test_stop_not_running_removes_stale_pidfile(config_file):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pidfile = config_file.parent / "tigase-py.pid"
    pidfile.write_text(f"{dead.pid}\n")
    result = cli(config_file, "server", "stop")
    assert result.exit_code == 1 and "not running" in result.stderr
    assert not pidfile.exists()


def test_start_status_stop(config_file):
    started = cli(config_file, "server", "start")
    assert started.exit_code == 0, started.output
    assert "started (pid" in started.stderr
    assert cli(config_file, "server", "start").exit_code == 1
    status = cli(config_file, "server", "status", "--json")
    assert status.exit_code == 0
    document = json.loads(status.stdout)
    assert document["running"] is True and document["listeners"][0]["reachable"] is True
    stopped = cli(config_file, "server", "stop")
    assert stopped.exit_code == 0, stopped.output
    assert cli(config_file, "server", "status").exit_code == 3


def test_start_reports_early_exit_with_log_tail(config_file, monkeypatch):
    monkeypatch.setenv("FAKE_SERVER_FAIL", "1")
    result = cli(config_file, "server", "start")
    assert result.exit_code == 1
    assert "boom: cannot start" in result.stderr
    assert "exited during start-up" in result.stderr
