"""``tigase-py status --via snmp`` against a running server's SNMP agent (v2c and v3 authPriv)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.integration.test_monitoring_cli import cli, one_error_line
from tests.xmpp_harness import login, running_server
from tigase_py.server import __version__

AUTH_KEY, PRIV_KEY = "auth-key-0123", "priv-key-0123"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def snmp_settings(port: int) -> str:
    return f"""
[snmp]
enabled = true
port = {port}
community = "s3cret-community"

[[snmp.users]]
name = "ops"
auth_key = "{AUTH_KEY}"
priv_key = "{PRIV_KEY}"
"""


async def test_status_via_snmp_v2c_and_v3(tmp_path: Path) -> None:
    port = free_udp_port()
    async with running_server(tmp_path, extra=snmp_settings(port)) as handle:
        await handle.add_user("alice@localhost")
        await login(handle, "alice@localhost")
        base = ("status", "--via", "snmp", "--snmp-port", str(port), "--json")
        v2c = await cli(*base, "--snmp-community", "s3cret-community")
        v3 = await cli(*base, "--snmp-user", "ops", "--snmp-auth-key", AUTH_KEY, "--snmp-priv-key", PRIV_KEY)
        # With --config the port and community come from the server's own [snmp] section.
        configured = await cli("--config", handle.directory / "tigase.toml", "status", "--via", "snmp")
    for done in (v2c, v3):
        assert done.returncode == 0, done.stderr
        probe = json.loads(done.stdout)["probes"][0]
        assert probe["ok"] and probe["probe"] == "snmp"
        assert probe["version"] == __version__
        assert probe["sessions"] == 1
        assert probe["uptime_seconds"] >= 0 and probe["open_files"] > 0 and probe["open_files_limit"] > 0
        assert probe["storage_up"] is True
        assert any(key.startswith("c2s/") for key in probe["metrics"])
    assert configured.returncode == 0, configured.stderr
    assert "HEALTHY" in configured.stdout and "sessions" in configured.stdout


async def test_status_via_snmp_bad_credentials_and_no_agent(tmp_path: Path) -> None:
    port = free_udp_port()
    async with running_server(tmp_path, extra=snmp_settings(port)):
        base = ("status", "--via", "snmp", "--snmp-port", str(port), "--timeout", "1")
        community = await cli(*base, "--snmp-community", "wrong")
        user = await cli(*base, "--snmp-user", "nobody", "--snmp-auth-key", AUTH_KEY, "--snmp-priv-key", PRIV_KEY)
        key = await cli(*base, "--snmp-user", "ops", "--snmp-auth-key", "wrong-key-0123", "--snmp-priv-key", PRIV_KEY)
    nobody = await cli("status", "--via", "snmp", "--snmp-port", str(free_udp_port()), "--timeout", "1")
    # A wrong community gets no reply at all: indistinguishable from a dead agent, so exit 3 naming both.
    assert community.returncode == 3
    assert "wrong community/user" in one_error_line(community)
    assert nobody.returncode == 3
    assert "no response" in one_error_line(nobody)
    # v3 agents answer a report (unknown user, wrong digest): the credentials were refused, exit 1.
    assert user.returncode == 1 and "Unknown USM user" in one_error_line(user)
    assert key.returncode == 1 and "Wrong SNMP PDU digest" in one_error_line(key)
    assert "check --snmp-user/--snmp-auth-key/--snmp-priv-key" in one_error_line(key)
