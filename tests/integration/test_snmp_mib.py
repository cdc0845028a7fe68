"""The shipped TIGASE-PY-MIB parses with net-snmp (and libsmi when present), names the agent's OIDs, and
lets net-snmp show a running agent's values by name."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.helpers import require_tool
from tests.integration.test_snmp_agent import BASE, free_udp_port, run, snmp_settings, v2c
from tests.xmpp_harness import running_server
from tigase_py.server import __version__, observe

pytestmark = pytest.mark.skipif(shutil.which("snmptranslate") is None, reason="net-snmp tools not installed")

MIB = Path(observe.__file__).parent / "TIGASE-PY-MIB.txt"
BASE_MODULES = ("SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "SNMP-FRAMEWORK-MIB", "SNMPv2-MIB")
KNOWN_DIRS = ("/usr/share/snmp/mibs/ietf", "/usr/share/snmp/mibs", "/usr/share/mibs/ietf", "/var/lib/mibs/ietf")
# Just enough of RFC 2578/2579/2580/3411/3418 for net-snmp when the real modules are not installed (Debian ships
# them only in the non-free snmp-mibs-downloader); net-snmp knows the SMI macros and base types itself.
STUBS = {
    "SNMPv2-SMI": """SNMPv2-SMI DEFINITIONS ::= BEGIN
org         OBJECT IDENTIFIER ::= { iso 3 }
dod         OBJECT IDENTIFIER ::= { org 6 }
internet    OBJECT IDENTIFIER ::= { dod 1 }
mgmt        OBJECT IDENTIFIER ::= { internet 2 }
mib-2       OBJECT IDENTIFIER ::= { mgmt 1 }
private     OBJECT IDENTIFIER ::= { internet 4 }
enterprises OBJECT IDENTIFIER ::= { private 1 }
END
""",
    "SNMPv2-TC": """SNMPv2-TC DEFINITIONS ::= BEGIN
DisplayString ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "255a"
    STATUS       current
    DESCRIPTION  "Text."
    SYNTAX       OCTET STRING (SIZE (0..255))
END
""",
    "SNMPv2-CONF": "SNMPv2-CONF DEFINITIONS ::= BEGIN\nEND\n",
    "SNMP-FRAMEWORK-MIB": """SNMP-FRAMEWORK-MIB DEFINITIONS ::= BEGIN
SnmpAdminString ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "255t"
    STATUS       current
    DESCRIPTION  "UTF-8 text."
    SYNTAX       OCTET STRING (SIZE (0..255))
END
""",
    "SNMPv2-MIB": """SNMPv2-MIB DEFINITIONS ::= BEGIN
IMPORTS mib-2 FROM SNMPv2-SMI;
system OBJECT IDENTIFIER ::= { mib-2 1 }
END
""",
}
SCALARS = (
    "tpyVersion", "tpyUptime", "tpySessions", "tpyConnections", "tpyRegisteredUsers", "tpyAuthFailures",
    "tpyStanzasIn", "tpyOpenFiles", "tpyOpenFilesLimit", "tpyResidentKiB", "tpyStorageUp", "tpyVhosts",
)  # fmt: skip


def find_module(name: str) -> Path | None:
    candidates = [Path(directory) for directory in KNOWN_DIRS]
    candidates += sorted(Path("/usr/lib/erlang/lib").glob("snmp-*/mibs"))
    for directory in candidates:
        for suffix in ("", ".txt", ".mib", ".my"):
            if (directory / (name + suffix)).is_file():
                return directory / (name + suffix)
    return None


def mib_dir(tmp_path: Path) -> Path:
    """A directory with the shipped MIB and the three SMIv2 base modules (real when found, else stubs)."""
    directory = tmp_path / "mibs"
    directory.mkdir()
    shutil.copy(MIB, directory / MIB.name)
    for name in BASE_MODULES:
        found = find_module(name)
        if found is not None:
            shutil.copy(found, directory / name)
        else:
            (directory / name).write_text(STUBS[name])
    return directory


async def test_snmptranslate_resolves_every_object(tmp_path: Path) -> None:
    directory = mib_dir(tmp_path)
    names = [f"TIGASE-PY-MIB::{name}.0" for name in SCALARS]
    names += [f"TIGASE-PY-MIB::{column}.7" for column in ("tpyMetricName", "tpyMetricValue", "tpyMetricInteger")]
    code, out, err = await run("snmptranslate", "-M", str(directory), "-m", "TIGASE-PY-MIB", "-On", *names)
    assert code == 0, err
    assert "Cannot" not in err and "Unlinked" not in err, err
    expected = [f"{BASE}.1.{n}.0" for n in range(1, 13)] + [f"{BASE}.2.1.{c}.7" for c in (2, 3, 4)]
    assert [line for line in out.splitlines() if line] == expected
    code, out, err = await run("snmptranslate", "-M", str(directory), "-m", "TIGASE-PY-MIB", f"{BASE}.1.3.0")
    assert code == 0 and out.strip() == "TIGASE-PY-MIB::tpySessions.0", (out, err)


async def test_smilint_finds_nothing_to_report(tmp_path: Path) -> None:
    require_tool("smilint", "smitools")
    directory = mib_dir(tmp_path)
    if any((directory / name).read_text() == STUBS[name] for name in BASE_MODULES):
        pytest.skip("the SMIv2 base modules are not installed")
    process = await asyncio.create_subprocess_exec(
        "smilint", "-l", "6", str(directory / MIB.name), env={"SMIPATH": str(directory)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    ours = [line for line in out.decode().splitlines() if MIB.name in line]
    assert not ours, "\n".join(ours)


async def test_net_snmp_reads_the_agent_by_name(tmp_path: Path) -> None:
    directory = mib_dir(tmp_path)
    port = free_udp_port()
    with_mib = ("-M", str(directory), "-m", "TIGASE-PY-MIB")
    async with running_server(tmp_path, extra=snmp_settings(port)):
        args = [a for a in v2c(port) if a != "-On"]
        code, out, err = await run("snmpget", *with_mib, *args, "TIGASE-PY-MIB::tpyVersion.0", "tpySessions.0")
        assert code == 0, err
        assert f"TIGASE-PY-MIB::tpyVersion.0 = STRING: {__version__}\n" in out  # DisplayString: no quotes
        assert "TIGASE-PY-MIB::tpySessions.0 = Gauge32: 0" in out
        code, out, err = await run("snmpwalk", *with_mib, *args, "TIGASE-PY-MIB::tigasePy")
        assert code == 0, err
        assert "TIGASE-PY-MIB::tpyMetricName.1 = STRING: c2s/" in out
        assert "TIGASE-PY-MIB::tpyResidentKiB.0 = Gauge32: " in out


async def test_system_by_name_and_utf8_metric_names(tmp_path: Path) -> None:
    directory = mib_dir(tmp_path)
    port = free_udp_port()
    with_mibs = ("-M", str(directory), "-m", "SNMPv2-MIB:TIGASE-PY-MIB")
    async with running_server(tmp_path, extra=snmp_settings(port)) as handle:
        await handle.server.add_vhost("ünï.example")
        args = [a for a in v2c(port) if a != "-On"]
        code, out, err = await run("snmpwalk", *with_mibs, *args, "system")  # the command the docs show
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) == 7 and lines[0].startswith("SNMPv2-MIB::") and f"tigase-py {__version__}" in lines[0]
        code, out, err = await run("snmpwalk", *with_mibs, *args, "TIGASE-PY-MIB::tpyMetricName")
        assert code == 0, err
        # SnmpAdminString (DISPLAY-HINT "255t"): net-snmp shows the UTF-8 text, not a Hex-STRING.
        assert "= STRING: vhost-man/Sessions[vhost=ünï.example]" in out, out
