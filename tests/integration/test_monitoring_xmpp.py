"""``tigase-py status --via xmpp``: XEP-0133 ad-hoc commands against our server and Debian's Prosody."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.integration.test_monitoring_cli import cli, one_error_line
from tests.xmpp_harness import RunningServer, login, running_server


def xmpp_args(handle: RunningServer, jid: str, password: str) -> tuple[str, ...]:
    return (
        "status", "--via", "xmpp", "--xmpp-jid", jid, "--xmpp-host", "127.0.0.1",
        "--xmpp-port", str(handle.starttls_port), "--xmpp-no-verify", "--timeout", "10",
    ) + (("--xmpp-password", password) if password else ())  # fmt: skip


async def test_status_via_xmpp_reads_admin_commands(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        await handle.add_user("alice@localhost")
        await login(handle, "alice@localhost")
        done = await cli(*xmpp_args(handle, "admin@localhost", "secret"), "--json")
        table = await cli(*xmpp_args(handle, "admin@localhost", ""), env={"TIGASE_PY_XMPP_PASSWORD": "secret"})
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)["probes"][0]
    assert probe["ok"] and probe["probe"] == "xmpp"
    assert probe["registered_users"] == 2
    assert probe["sessions"] >= 1  # alice, and the probe's own session when counted
    assert len(probe["metrics"]) > 2  # the statistics command's fields, not only the two XEP-0133 counts
    assert table.returncode == 0, table.stderr
    assert "HEALTHY" in table.stdout and "registered users" in table.stdout


async def test_status_via_xmpp_bad_password_non_admin_and_no_server(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        await handle.add_user("alice@localhost")
        wrong = await cli(*xmpp_args(handle, "admin@localhost", "wrong"))
        plain_user = await cli(*xmpp_args(handle, "alice@localhost", "secret"))
    nobody = await cli(
        "status", "--via", "xmpp", "--xmpp-jid", "admin@localhost", "--xmpp-password", "x",
        "--xmpp-host", "127.0.0.1", "--xmpp-port", str(free_port()), "--timeout", "5",
    )  # fmt: skip
    assert wrong.returncode == 1
    assert one_error_line(wrong) == "error: xmpp: authentication failed for admin@localhost (check --xmpp-password)"
    assert plain_user.returncode == 1
    assert one_error_line(plain_user).startswith("error: xmpp: ")
    assert nobody.returncode == 3
    assert one_error_line(nobody).startswith("error: xmpp: cannot connect to 127.0.0.1:")


@pytest.mark.skipif(shutil.which("prosody") is None, reason="needs Debian's prosody")
async def test_status_via_xmpp_against_prosody() -> None:
    from tigase_py.compat_tests.peers import prosody

    with prosody.running(users=("alice",)) as target:
        assert target.admin is not None
        base = (
            "status", "--via", "xmpp", "--xmpp-jid", target.admin.jid, "--xmpp-host", target.host,
            "--xmpp-port", str(target.port), "--xmpp-no-verify", "--timeout", "10",
        )  # fmt: skip
        done = await cli(*base, "--xmpp-password", target.admin.password, "--json")
        wrong = await cli(*base, "--xmpp-password", "wrong")
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)["probes"][0]
    # Prosody 0.12 offers get-online-users-list but no count commands: sessions come from the list.
    assert probe["sessions"] is not None and probe["sessions"] >= 1
    assert "prosody" in (probe["version"] or "").lower()
    assert wrong.returncode == 1
    assert "authentication failed" in one_error_line(wrong)
