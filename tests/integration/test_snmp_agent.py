"""The SNMP agent of a running server, read with net-snmp's command-line tools (an independent manager)."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from pathlib import Path

import pytest

from tests.xmpp_harness import login, running_server
from tigase_py.server import __version__
from tigase_py.server.config.schema import SnmpConfig, SnmpUser
from tigase_py.server.observe.snmp_agent import start_agent

pytestmark = pytest.mark.skipif(shutil.which("snmpget") is None, reason="net-snmp tools not installed")

BASE = ".1.3.6.1.4.1.32473.1"
NAME, VALUE, INTEGER = BASE + ".2.1.2.", BASE + ".2.1.3.", BASE + ".2.1.4."
AUTH_KEY, PRIV_KEY = "auth-key-0123", "priv-key-0123"
LINE = re.compile(r"^(\.[\d.]+) = (?:([\w ]+): )?(.*)$")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def snmp_settings(port: int, base_oid: str = BASE[1:]) -> str:
    return f"""
[snmp]
enabled = true
port = {port}
community = "public"
base_oid = "{base_oid}"

[[snmp.users]]
name = "ops"
auth_key = "{AUTH_KEY}"
priv_key = "{PRIV_KEY}"
"""


async def run(*args: str, timeout: float = 30.0) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def v2c(port: int, community: str = "public") -> tuple[str, ...]:
    return ("-v2c", "-c", community, "-On", "-t", "2", "-r", "1", f"127.0.0.1:{port}")


def v3(
    port: int,
    user: str = "ops",
    auth: str = "SHA",
    priv: str = "AES",
    auth_key: str = AUTH_KEY,
    priv_key: str = PRIV_KEY,
) -> tuple[str, ...]:
    return (
        "-v3", "-l", "authPriv", "-u", user, "-a", auth, "-A", auth_key, "-x", priv, "-X", priv_key,
        "-On", "-t", "2", "-r", "1", f"127.0.0.1:{port}",
    )  # fmt: skip


def parse(output: str) -> dict[str, tuple[str, str]]:
    """``oid → (type, value)`` of net-snmp's ``-On`` output; the end-of-view notice is dropped."""
    values: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        match = LINE.match(line)
        if match and "No more variables" not in line:
            values[match[1]] = (match[2] or "", match[3].strip('"'))
    return values


async def test_get_and_walk_with_v2c_and_v3(tmp_path: Path) -> None:
    port = free_udp_port()
    async with running_server(tmp_path, extra=snmp_settings(port)) as handle:
        await handle.add_user("alice@localhost")
        client = await login(handle, "alice@localhost")
        client.send_message(mto=client.boundjid.full, mbody="count me")
        await client.next_message()

        code, out, err = await run("snmpget", *v2c(port), f"{BASE}.1.1.0", f"{BASE}.1.3.0", f"{BASE}.1.4.0")
        assert code == 0, err
        got = parse(out)
        assert got[f"{BASE}.1.1.0"] == ("STRING", __version__)
        assert got[f"{BASE}.1.3.0"] == ("Gauge32", str(handle.server.sessions.count))
        assert handle.server.sessions.count == 1
        assert got[f"{BASE}.1.4.0"] == ("Gauge32", "1")

        code, out, err = await run("snmpwalk", *v2c(port), BASE)  # GETNEXT
        assert code == 0, err
        walked = parse(out)
        code, out, err = await run("snmpbulkwalk", *v2c(port), BASE)  # GETBULK
        assert code == 0, err
        bulk = parse(out)

        scalars = [oid for oid in walked if oid.startswith(BASE + ".1.")]
        assert scalars == [f"{BASE}.1.{n}.0" for n in range(1, 13)]
        assert walked[f"{BASE}.1.2.0"][0] == "Timeticks"
        assert int(walked[f"{BASE}.1.7.0"][1]) >= 1  # tpyStanzasIn
        assert walked[f"{BASE}.1.6.0"][0] == "Counter64"
        assert walked[f"{BASE}.1.11.0"] == ("INTEGER", "1")  # tpyStorageUp (watch pinged at start)
        assert walked[f"{BASE}.1.12.0"] == ("Gauge32", "1")
        assert int(walked[f"{BASE}.1.9.0"][1]) >= int(walked[f"{BASE}.1.8.0"][1]) > 0

        names = {oid[len(NAME) :]: value for oid, (_, value) in walked.items() if oid.startswith(NAME)}
        assert list(names.values()) == sorted(names.values())
        assert [int(index) for index in names] == list(range(1, len(names) + 1))
        assert len(names) >= 100
        index = next(i for i, name in names.items() if name == "c2s/Stanzas received[kind=message]")
        assert float(walked[VALUE + index][1]) >= 1
        assert walked[INTEGER + index] == ("Counter64", str(round(float(walked[VALUE + index][1]))))
        assert list(walked) == sorted(walked, key=lambda oid: tuple(int(p) for p in oid[1:].split(".")))
        # Live values (uptime, memory, lag) may move between the two walks; the rows must not.
        assert list(bulk) == list(walked)
        assert {oid: value for oid, value in bulk.items() if oid.startswith(NAME)} == {
            oid: value for oid, value in walked.items() if oid.startswith(NAME)
        }

        code, out, err = await run("snmpbulkwalk", *v3(port), BASE)
        assert code == 0, err
        secure = parse(out)
        assert list(secure) == list(walked)
        assert secure[f"{BASE}.1.1.0"] == ("STRING", __version__)


async def test_wrong_credentials_get_no_data(tmp_path: Path) -> None:
    port = free_udp_port()
    oid = f"{BASE}.1.1.0"
    async with running_server(tmp_path, extra=snmp_settings(port)) as handle:
        code, out, err = await run("snmpget", "-v2c", "-c", "wrong", "-t", "1", "-r", "0", f"127.0.0.1:{port}", oid)
        assert code != 0 and "Timeout" in err and not out
        code, out, err = await run("snmpget", *v3(port, auth_key="not-the-key-1"), oid)
        assert code != 0 and "Authentication failure" in err and not out
        code, out, err = await run("snmpget", *v3(port, priv_key="not-the-key-1"), oid)
        assert code != 0 and "Decryption error" in err and not out
        code, out, err = await run("snmpget", *v3(port, user="nobody"), oid)
        assert code != 0 and "Unknown user name" in err and not out
        code, out, err = await run("snmpget", *v2c(port), oid)
        assert code == 0 and parse(out)[oid] == ("STRING", __version__)
        assert handle.server.sessions.count == 0


async def test_missing_objects_and_a_custom_base(tmp_path: Path) -> None:
    port = free_udp_port()
    base = ".1.3.6.1.4.1.32473.77"
    async with running_server(tmp_path, extra=snmp_settings(port, base[1:])):
        probes = (f"{base}.1.3.0", f"{base}.1.3.1", f"{base}.1.99.0", f"{BASE}.1.3.0", f"{base}.2.1.2.999999")
        code, out, err = await run("snmpget", *v2c(port), *probes)
        assert code == 0, err
        assert out.count("Gauge32: 0") == 1
        assert out.count("No Such Instance") == 2 and out.count("No Such Object") == 2
        code, out, err = await run("snmpwalk", *v2c(port), BASE)  # nothing served there
        assert code == 0 and list(parse(out).values()) == [("", "No Such Object available on this agent at this OID")]
        code, out, err = await run("snmpset", *v2c(port), f"{base}.1.3.0", "u", "5")
        assert code != 0 and "notWritable" in err, err


async def test_a_busy_port_stops_start_up(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = int(taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="server did not start: 1"):
            async with running_server(tmp_path, extra=snmp_settings(port)):
                pass


@pytest.mark.parametrize(("auth", "priv", "net_snmp_auth"), [("SHA256", "AES", "SHA-256"), ("MD5", "DES", "MD5")])
async def test_other_usm_protocols(tmp_path: Path, auth: str, priv: str, net_snmp_auth: str) -> None:
    port = free_udp_port()
    async with running_server(tmp_path) as handle:
        user = SnmpUser("ops", AUTH_KEY, PRIV_KEY, auth_protocol=auth, priv_protocol=priv)
        settings = SnmpConfig(enabled=True, port=port, community=None, users=(user,))
        agent = start_agent(handle.server, settings)
        try:
            code, out, err = await run("snmpget", *v3(port, auth=net_snmp_auth, priv=priv), f"{BASE}.1.12.0")
            assert code == 0, err
            assert parse(out)[f"{BASE}.1.12.0"] == ("Gauge32", "1")
            quick = ("-t", "1", "-r", "0", f"127.0.0.1:{port}")
            code, out, err = await run("snmpget", "-v2c", "-c", "public", *quick, BASE)
            assert code != 0 and "Timeout" in err  # community None: v2c is off
        finally:
            agent.close()


def settings_with(port: int, versions: str, **system: str) -> str:
    lines = ["[snmp]", "enabled = true", f"port = {port}", 'community = "public"', f"versions = {versions}"]
    lines += [f'{key} = "{value}"' for key, value in system.items()]
    return "\n".join(lines) + "\n"


async def test_system_group_answers_generic_discovery(tmp_path: Path) -> None:
    port = free_udp_port()
    extra = settings_with(port, '["2c"]', sys_name="xmpp-1", sys_contact="ops@example.org", sys_location="rack 4")
    async with running_server(tmp_path, extra=extra):
        code, out, err = await run("snmpwalk", *v2c(port), ".1.3.6.1.2.1.1")
        assert code == 0, err
        system = parse(out)
        assert list(system) == [f".1.3.6.1.2.1.1.{n}.0" for n in range(1, 8)]
        assert system[".1.3.6.1.2.1.1.1.0"][1].startswith(f"tigase-py {__version__} XMPP server")
        assert system[".1.3.6.1.2.1.1.2.0"] == ("OID", BASE)
        assert system[".1.3.6.1.2.1.1.3.0"][0] == "Timeticks"
        assert system[".1.3.6.1.2.1.1.4.0"][1] == "ops@example.org"
        assert system[".1.3.6.1.2.1.1.5.0"][1] == "xmpp-1"
        assert system[".1.3.6.1.2.1.1.6.0"][1] == "rack 4"
        assert system[".1.3.6.1.2.1.1.7.0"] == ("INTEGER", "72")
        code, out, err = await run("snmpwalk", *v2c(port))  # no OID: net-snmp walks mib-2
        assert code == 0 and list(parse(out)) == list(system), err
        code, out, err = await run("snmpget", *v2c(port), ".1.3.6.1.2.1.1.8.0", ".1.3.6.1.2.1.1.1.1")
        assert out.count("No Such Object") == 1 and out.count("No Such Instance") == 1, out + err


async def test_bulk_walk_ends_with_a_single_end_of_view(tmp_path: Path) -> None:
    port = free_udp_port()
    async with running_server(tmp_path, extra=snmp_settings(port)):
        for repetitions in ("10", "50"):
            code, out, err = await run("snmpbulkwalk", *v2c(port), f"-Cr{repetitions}", BASE)
            assert code == 0, err
            ends = [line for line in out.splitlines() if "No more variables" in line]
            assert len(ends) == 1 and out.splitlines()[-1] == ends[0], out[-500:]
        code, out, err = await run("snmpbulkwalk", *v2c(port), BASE + ".1")  # a subtree with objects after it
        assert code == 0 and "No more variables" not in out and len(parse(out)) == 12, out + err


async def test_v1_is_dropped_unless_enabled(tmp_path: Path) -> None:
    port = free_udp_port()
    quick = ("-c", "public", "-t", "1", "-r", "0", "-On", f"127.0.0.1:{port}")
    async with running_server(tmp_path, extra=snmp_settings(port)):
        code, out, err = await run("snmpget", "-v1", *quick, f"{BASE}.1.1.0")
        assert code != 0 and "Timeout" in err and not out  # no noSuchName: no answer at all
        code, out, err = await run("snmpget", *v2c(port), f"{BASE}.1.1.0")
        assert code == 0 and parse(out)[f"{BASE}.1.1.0"] == ("STRING", __version__), err


async def test_v1_when_enabled_answers_and_skips_counter64(tmp_path: Path) -> None:
    port = free_udp_port()
    quick = ("-c", "public", "-t", "2", "-r", "1", "-On", f"127.0.0.1:{port}")
    async with running_server(tmp_path, extra=settings_with(port, '["1", "2c"]')):
        code, out, err = await run("snmpget", "-v1", *quick, f"{BASE}.1.1.0", ".1.3.6.1.2.1.1.7.0")
        assert code == 0, err
        assert parse(out) == {f"{BASE}.1.1.0": ("STRING", __version__), ".1.3.6.1.2.1.1.7.0": ("INTEGER", "72")}
        code, out, err = await run("snmpget", "-v1", *quick, f"{BASE}.1.6.0")  # Counter64: RFC 3584 §4.2.2.1
        assert code != 0 and "noSuchName" in err
        code, out, err = await run("snmpwalk", "-v1", *quick, BASE + ".1")
        assert code == 0, err
        walked = parse(out)
        assert f"{BASE}.1.5.0" in walked and f"{BASE}.1.8.0" in walked
        assert f"{BASE}.1.6.0" not in walked and f"{BASE}.1.7.0" not in walked
        once = ("-t", "1", "-r", "0", f"127.0.0.1:{port}")
        code, out, err = await run("snmpget", "-v3", "-l", "noAuthNoPriv", "-u", "x", *once, f"{BASE}.1.1.0")
        assert code != 0 and not out  # v3 is not in versions
