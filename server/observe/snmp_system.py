"""The standard SNMPv2-MIB ``system`` group (RFC 3418), so generic discovery (``snmpwalk … system``,
monitoring systems' device detection) recognises the agent: sysDescr, sysObjectID (the agent's base
OID in our enterprise subtree), sysUpTime (since the agent started), sysContact, sysName, sysLocation
and sysServices. Read-only here: a SET is answered notWritable like every other object."""

from __future__ import annotations

import platform
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysnmp.proto import rfc1902

from tigase_py.server import __version__

if TYPE_CHECKING:
    from tigase_py.server.config.schema import SnmpConfig

Oid = tuple[int, ...]

SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYSTEM_OBJECTS = 7  # sysDescr.0 … sysServices.0
SERVICES = 72  # RFC 3418 sysServices: applications (64) + end-to-end (8), as net-snmp's snmpd reports
TIMETICKS_MAX = 2**32


def description() -> str:
    """sysDescr: product, version and platform, e.g. ``tigase-py 0.1.0 XMPP server; CPython 3.11.7; Linux …``."""
    return (
        f"tigase-py {__version__} XMPP server; {platform.python_implementation()} {platform.python_version()}; "
        f"{platform.system()} {platform.release()} {platform.machine()}"
    )


def system_group(settings: SnmpConfig, base: Oid) -> Callable[[], list[tuple[Oid, Any]]]:
    """A reader of ``(oid, value)`` for ``system.1.0`` … ``system.7.0``; only sysUpTime changes."""
    started = time.monotonic()
    fixed: dict[int, Any] = {
        1: rfc1902.OctetString(description()),
        2: rfc1902.ObjectIdentifier(base),
        4: rfc1902.OctetString(settings.sys_contact.encode()),
        5: rfc1902.OctetString((settings.sys_name or socket.gethostname()).encode()),
        6: rfc1902.OctetString(settings.sys_location.encode()),
        7: rfc1902.Integer32(SERVICES),
    }

    def read() -> list[tuple[Oid, Any]]:
        uptime = rfc1902.TimeTicks(int((time.monotonic() - started) * 100) % TIMETICKS_MAX)
        values = {**fixed, 3: uptime}
        return [(SYSTEM + (n, 0), values[n]) for n in sorted(values)]

    return read
