"""On-call on the server's own host: right after ``init`` + ``server start``, ``status``, ``stats``,
``user`` and ``session`` answer through the admin socket without credentials; a user without access to
the socket is told so in one line. The server is a real ``tigase-py server start`` subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import cli_command, free_ports
from tests.integration.test_monitoring_cli import one_error_line
from tests.xmpp_harness import TIMEOUT, Client

# A uid other than root that can still run this Python (it may live under /root, which only root may
# search): read access everywhere through CAP_DAC_READ_SEARCH, but no write access, and connecting
# to a UNIX socket needs write access.
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]  # fmt: skip


async def cli(*args: str | os.PathLike[str], cwd: Path | None = None, prefix: tuple[str, ...] = ()
              ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TIGASE_PY_CONFIG", None)
    env.pop("TIGASE_PY_API_KEY", None)
    process = await asyncio.create_subprocess_exec(
        *prefix, *cli_command(), *(os.fspath(a) for a in args), env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return subprocess.CompletedProcess(
        [os.fspath(a) for a in args], process.returncode or 0, out.decode(), err.decode()
    )


@dataclass
class Site:
    directory: Path
    c2s_port: int


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """``tigase-py init --user admin`` on free ports, then ``tigase-py server start`` (a real subprocess)."""
    directory = tmp_path / "site"
    done = await cli("init", directory, "--user", "admin", "--password", "secret")
    assert done.returncode == 0, done.stderr
    starttls, direct, http = free_ports(3)
    config = directory / "tigase.toml"
    text = config.read_text().replace("port = 5222", f"port = {starttls}").replace("port = 5223", f"port = {direct}")
    config.write_text(text.replace("port = 5280", f"port = {http}"))
    started = await cli("server", "start", cwd=directory)
    assert started.returncode == 0, started.stderr
    try:
        yield Site(directory, starttls)
    finally:
        await cli("server", "stop", cwd=directory)


def probe_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["state"] == "healthy"
    probe: dict[str, object] = document["probes"][0]
    return probe


def row(table: str, label: str) -> str:
    found = re.search(rf"│ {label}\s+│ (.+?)\s+│", table)
    assert found, table
    return found.group(1)


async def test_status_stats_users_and_refusal_right_after_init_and_start(site: Site) -> None:
    added = await cli("user", "add", "alice@localhost", "--password", "secret", cwd=site.directory)
    assert added.returncode == 0, added.stderr
    client = Client("alice@localhost", "secret")
    client.enable_direct_tls = False
    client.connect("127.0.0.1", site.c2s_port)
    try:
        await asyncio.wait_for(asyncio.shield(client.started), TIMEOUT)
        document = await cli("status", "--json", cwd=site.directory)
        view = await cli("status", cwd=site.directory)
        metrics = await cli("stats", "--json", cwd=site.directory)
        sessions = await cli("session", "list", "--json", cwd=site.directory)
    finally:
        client.disconnect()
    probe = probe_of(document)
    assert str(probe["target"]).startswith("unix:") and str(probe["target"]).endswith("tigase-py.sock")
    assert probe["sessions"] == 1 and probe["registered_users"] == 2 and probe["vhosts"] == ["localhost"]
    assert isinstance(probe["resident_kib"], float) and probe["resident_kib"] > 1024
    assert isinstance(probe["open_files"], int) and probe["open_files"] > 5
    assert isinstance(probe["open_files_limit"], int) and probe["open_files_limit"] >= probe["open_files"]
    assert isinstance(probe["threads"], int) and probe["threads"] >= 1
    assert view.returncode == 0, view.stderr
    assert (row(view.stdout, "vhosts"), row(view.stdout, "sessions"), row(view.stdout, "registered users")) == (
        "localhost", "1", "2",
    )  # fmt: skip
    assert row(view.stdout, "open files") == f"{probe['open_files']} / {probe['open_files_limit']}"
    assert row(view.stdout, "resident memory").endswith(" MiB")
    assert metrics.returncode == 0, metrics.stderr
    assert json.loads(metrics.stdout)["metrics"]["sess-man/Open user sessions"] == 1
    assert sessions.returncode == 0, sessions.stderr
    assert [s["jid"].split("/")[0] for s in json.loads(sessions.stdout)["sessions"]] == ["alice@localhost"]

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("the no-access case needs root and setpriv")
    os.chmod(site.directory, 0o755)  # whatever init chose: the socket's own mode must be what refuses
    for args in (["status"], ["user", "list"]):
        done = await cli(*args, cwd=site.directory, prefix=tuple(NOBODY))
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "no access to the admin socket" in one_error_line(done)
