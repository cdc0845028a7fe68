"""`tigase-py install` runs its real playbooks into a Debian 12 root entered through ansible's chroot connection.

The root comes from tests/integration/chroot_root.py: a fresh copy of a cached debootstrap per test.
"""

from __future__ import annotations

import json
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import free_port, run_cli
from tests.integration.chroot_root import (
    ADMIN,
    CHROOT_MARKS,
    PASSWORD,
    PREFIX,
    VHOST,
    fresh_root,
    in_root,
    install,
    install_from_inside,
    inventory,
    mount_devpts,
    server_running,
)
from tests.xmpp_harness import login

pytestmark = CHROOT_MARKS


@pytest.fixture
def chroot() -> Iterator[Path]:
    with fresh_root() as root:
        yield root


async def test_install_into_debian_root_then_again_changes_nothing(tmp_path, chroot):
    ports = {"c2s": free_port(), "direct": free_port(), "http": free_port()}

    # A dry run on the new root (building the wheelhouse, as a real run does) lists what it would
    # do and touches nothing.
    planned = install(tmp_path, chroot, ports, "--check")
    assert planned.returncode == 0, planned.stderr[-3000:]
    (plan,) = json.loads(planned.stdout)["hosts"]
    assert {"Create the service user", "Write tigase.toml", "Write the systemd unit"} <= set(plan["changed_tasks"])
    assert "tigase:" not in (chroot / "etc/passwd").read_text()
    assert not (chroot / "etc/tigase-py").exists() and not (chroot / PREFIX.lstrip("/")).exists()
    wheels = tmp_path / "cache/tigase-py/wheelhouse"
    assert len(list(wheels.glob("tigase_py-*.whl"))) == 1

    # Another process holds the client port: one error line, exit 1, and no server left running.
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", ports["c2s"]))
        squatter.listen()
        refused = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels))
    assert refused.returncode == 1, refused.stderr[-3000:]
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {chroot}: port {ports['c2s']} is in use by another process"], refused.stderr
    assert not server_running(chroot)

    first = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels))
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)
    (host,) = report["hosts"]
    assert host["status"] == "changed" and host["changed"] > 0
    assert host["service_mode"] == "direct"  # systemd is not PID 1 inside a chroot
    assert "systemd is not PID 1" in first.stderr
    assert {c["name"]: c["ok"] for c in host["checks"]} == {"xmpp": True, "http": True}
    assert Path(report["log"]).is_file() and "PLAY RECAP" in Path(report["log"]).read_text()

    # The user, the venv, the config and the unit.
    passwd = (chroot / "etc/passwd").read_text()
    assert any(line.startswith("tigase:") and line.endswith(":/usr/sbin/nologin") for line in passwd.splitlines())
    assert (chroot / PREFIX.lstrip("/") / "venv/bin/python").exists()
    config = tomllib.loads((chroot / "etc/tigase-py/tigase.toml").read_text())
    assert config["server"]["vhosts"] == [VHOST] and config["server"]["admins"] == [ADMIN]
    assert config["listeners"][0]["port"] == ports["c2s"]
    assert config["storage"]["url"] == "sqlite+aiosqlite:////var/lib/tigase-py/tigase.db"
    unit = (chroot / "etc/systemd/system/tigase-py.service").read_text()
    assert f"LimitNOFILE={2000 * 2 + 1024}" in unit
    assert "NoNewPrivileges=yes" in unit and "ProtectSystem=strict" in unit
    assert "ReadWritePaths=/var/lib/tigase-py" in unit
    assert (chroot / "var/lib/tigase-py/tigase.db").is_file()

    # The installed command runs inside the root, and the server it started answers a login.
    version = in_root(chroot, f"{PREFIX}/venv/bin/tigase-py", "--version")
    assert version.returncode == 0 and version.stdout.startswith("tigase-py "), version.stderr
    handle = SimpleNamespace(starttls_port=ports["c2s"], clients=[])
    client = await login(handle, ADMIN, PASSWORD)  # type: ignore[arg-type]
    client.disconnect()

    # Same options again: nothing changes.
    second = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels))
    assert second.returncode == 0, second.stderr[-3000:]
    (again,) = json.loads(second.stdout)["hosts"]
    assert again["changed"] == 0, again["changed_tasks"]
    assert again["failed"] == 0 and again["status"] == "ok"

    # A dry run with another connection limit reports the unit and config changes and writes nothing.
    dry = install(tmp_path, chroot, ports, "--wheelhouse", str(wheels), "--check", "--max-connections", "3000")
    assert dry.returncode == 0, dry.stderr[-3000:]
    (planned,) = json.loads(dry.stdout)["hosts"]
    assert {"Write tigase.toml", "Write the systemd unit"} <= set(planned["changed_tasks"])
    assert (chroot / "etc/systemd/system/tigase-py.service").read_text() == unit

    # The installed copy installs onto its own machine (`--local`, no SSH) with the wheelhouse the
    # install left beside its venv: the same options change nothing, and it upgrades in place.
    mount_devpts(chroot)
    local = install_from_inside(chroot, ports)
    assert local.returncode == 0, local.stderr[-3000:]
    (here,) = json.loads(local.stdout)["hosts"]
    assert here["host"] == "localhost" and here["service_mode"] == "direct"
    assert here["changed"] == 0, here["changed_tasks"]
    assert {c["name"]: c["ok"] for c in here["checks"]} == {"xmpp": True, "http": True}

    pid_before = (chroot / "var/lib/tigase-py/tigase-py.pid").read_text()
    upgraded = install_from_inside(chroot, ports, "--upgrade")
    assert upgraded.returncode == 0, upgraded.stderr[-3000:]
    (after,) = json.loads(upgraded.stdout)["hosts"]
    assert "Reinstall the server package from the new wheel (upgrade)" in after["changed_tasks"]
    assert all(check["ok"] for check in after["checks"]) and len(after["checks"]) == 2
    assert (chroot / "var/lib/tigase-py/tigase-py.pid").read_text() != pid_before  # restarted
    client = await login(handle, ADMIN, PASSWORD)  # type: ignore[arg-type]
    client.disconnect()

    # Uninstall stops the server and removes the prefix, keeping the config and the data.
    removed = run_cli(
        "uninstall", "--inventory", inventory(tmp_path, chroot), "--log-dir", tmp_path / "logs", "--json", timeout=300
    )
    assert removed.returncode == 0, removed.stderr[-3000:]
    assert not (chroot / PREFIX.lstrip("/")).exists()
    assert not (chroot / "var/lib/tigase-py/tigase-py.pid").exists()
    assert (chroot / "var/lib/tigase-py/tigase.db").is_file()
    assert (chroot / "etc/tigase-py/tigase.toml").is_file()
