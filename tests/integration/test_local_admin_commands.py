"""The user, vhost and session commands go through the running server's admin socket, so the server itself
fires its events and serves a new vhost at once; ``status`` names a failed certificate check. The server
runs in the test's loop; the CLI runs in a thread (the same code as the console script, without paying a
process start per command)."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.xmpp_harness import TIMEOUT, login, running_server
from tigase_py.cli import main

runner = CliRunner()


async def cli(*args: str | Path) -> Result:
    return await asyncio.to_thread(runner.invoke, main.app, [str(a) for a in args], env={"COLUMNS": "200"})


def one_error_line(done: Result) -> str:
    """The one error line; warnings (such as a data directory other users can read) may come before it."""
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


async def test_user_vhost_and_session_commands_go_through_the_running_server(tmp_path: Path) -> None:
    config = tmp_path / "tigase.toml"
    async with running_server(tmp_path) as handle:
        events: list[tuple[str, str]] = []

        async def created(owner: str, **_: object) -> None:
            events.append(("created", owner))

        async def deleted(owner: str, **_: object) -> None:
            events.append(("deleted", owner))

        handle.server.bus.on("user.created", created)
        handle.server.bus.on("user.deleted", deleted)
        add = await cli("--config", config, "user", "add", "dave@localhost", "--password", "pw")
        assert add.exit_code == 0, add.stderr
        assert events == [("created", "dave@localhost")]
        users = await cli("--config", config, "user", "list", "--json")
        assert json.loads(users.stdout)["users"] == ["dave@localhost"]
        dave = await login(handle, "dave@localhost", "pw")
        listed = await cli("--config", config, "session", "list", "--json")
        assert [s["jid"].split("/")[0] for s in json.loads(listed.stdout)["sessions"]] == ["dave@localhost"]
        # The user.created handler keeps the registered-users gauge exact; status reads it at once.
        status = await cli("--config", config, "status", "--json")
        probe = json.loads(status.stdout)["probes"][0]
        assert (probe["registered_users"], probe["sessions"]) == (1, 1) and probe["target"].startswith("unix:")
        prometheus = await cli("--config", config, "stats", "--prometheus", "--filter", "sess-man/*")
        assert re.search(r"^tigasepy_\S*sessions\S* 1(\.0)?$", prometheus.stdout, re.M), prometheus.stdout
        assert all("sess" in line.split()[2 if line.startswith("#") else 0] for line in prometheus.stdout.splitlines())
        kicked = await cli("--config", config, "session", "kick", "dave@localhost")
        assert kicked.exit_code == 0 and "disconnected dave@localhost/" in kicked.stderr
        assert await asyncio.wait_for(dave.failed, TIMEOUT) == "stream_error:policy-violation"
        missing = await cli("--config", config, "session", "kick", "dave@localhost")
        assert missing.exit_code == 1 and one_error_line(missing) == "error: no session of dave@localhost"
        changed = await cli("--config", config, "user", "passwd", "dave@localhost", "--password", "new-pw")
        assert changed.exit_code == 0, changed.stderr
        assert await handle.server.storage.users.verify_password("dave", "localhost", "new-pw")
        removed = await cli("--config", config, "user", "delete", "dave@localhost")
        assert removed.exit_code == 0 and events[-1] == ("deleted", "dave@localhost")
        again = await cli("--config", config, "user", "add", "eve@nowhere.example", "--password", "pw")
        assert again.exit_code == 1 and "nowhere.example is not served here" in one_error_line(again)
        vhost = await cli("--config", config, "vhost", "add", "new.example")
        assert vhost.exit_code == 0, vhost.stderr
        assert "new.example" in handle.server.vhosts  # served at once, without a reload signal
        vhosts = await cli("--config", config, "vhost", "list", "--json")
        assert {"name": "new.example", "source": "storage"} in json.loads(vhosts.stdout)["vhosts"]
    stopped = await cli("--config", config, "session", "list")
    offline = await cli("--config", config, "user", "list", "--json")  # no server: straight to storage
    assert offline.exit_code == 0 and json.loads(offline.stdout)["users"] == []
    assert stopped.exit_code == 3 and "the server is not running" in one_error_line(stopped)


async def test_status_names_a_failed_certificate_check(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        base = ["--config", tmp_path / "tigase.toml", "status", "--via", "xmpp", "--xmpp-jid", "admin@localhost",
                "--xmpp-password", "secret", "--xmpp-host", "127.0.0.1", "--timeout", "5"]  # fmt: skip
        done = await cli(*base)  # the port comes from the config's STARTTLS listener
    assert done.exit_code == 1, done.stderr
    assert "certificate verify failed: self-signed certificate" in one_error_line(done)
    assert "cannot connect" not in done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
async def test_a_member_of_the_configured_group_may_use_the_socket(tmp_path: Path) -> None:
    from tests.integration.test_local_admin import NOBODY
    from tests.integration.test_local_admin import cli as cli_process

    group = grp.getgrgid(65534).gr_name  # nobody's own group: NOBODY runs with it
    run_dir = Path(tempfile.mkdtemp(prefix="tigase-py-run-"))  # under /tmp, which every user may search
    try:
        os.chown(run_dir, 0, 65534)
        run_dir.chmod(0o750)
        extra = f'[admin_socket]\npath = "{run_dir}/admin.sock"\ngroup = "{group}"\n'
        async with running_server(tmp_path, extra=extra) as handle:
            info = (run_dir / "admin.sock").stat()
            assert (stat.S_IMODE(info.st_mode), info.st_gid) == (0o660, 65534)
            await handle.add_user("amy@localhost")
            done = await cli_process("status", "--json", cwd=tmp_path, prefix=tuple(NOBODY))  # finds ./tigase.toml
    finally:
        shutil.rmtree(run_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["probes"][0]["registered_users"] == 1


async def test_server_refuses_an_admin_socket_directory_others_can_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.xmpp_harness import write_config
    from tigase_py.server.app import serve
    from tigase_py.server.config.load import load_config

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    path, *_ = write_config(tmp_path, ("localhost",), extra=f'[admin_socket]\npath = "{shared}/tigase-py.sock"\n')
    assert await asyncio.wait_for(serve(load_config(path), signals=False), TIMEOUT) == 1
    assert "writable by group or others (mode 0777)" in caplog.text
    assert not (shared / "tigase-py.sock").exists()
