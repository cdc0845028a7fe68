"""The SNMP agent: serves the metrics registry as TIGASE-PY-MIB plus the standard ``system`` group
(read-only community for v1/v2c, SNMPv3 USM authPriv users), on UDP in the server's own event loop.

``[snmp] versions`` lists the protocol versions answered (default v2c and v3). A message of any other
version is dropped unanswered, counted in snmpInBadVersions (RFC 3412 §7.2.2), as net-snmp's snmpd
does for a version it does not serve. v1 (off by default) cannot carry Counter64, so a v1 manager sees
the Counter64 objects skipped (RFC 3584 §4.2.2.1).

The engine is built inside the running loop and ``open_dispatcher()`` is never called (it would try to run
the loop); ``close()`` closes the dispatcher. The UDP socket is bound here, synchronously, so a busy port
fails start-up with an ``OSError`` instead of an error in a background task.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as snmp_config
from pysnmp.entity import engine as snmp_engine
from pysnmp.entity.rfc3413 import cmdrsp
from pysnmp.entity.rfc3413 import context as snmp_context
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c as snmp_v2c
from pysnmp.smi import error as smi_error

from tigase_py.server.observe.snmp_system import SYSTEM, system_group
from tigase_py.server.observe.snmp_table import MetricsMibController, parse_oid

if TYPE_CHECKING:
    from tigase_py.server.config.schema import SnmpConfig
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.snmp")

COMMUNITY_INDEX = "tigase-py-ro"
READ_VIEW = "tigase-py-read"
NO_VIEW = "tigase-py-none"  # never defined, so nothing is writable or notifiable
# version → (message processing model, security model) of RFC 3411
MODELS = {"1": (0, 1), "2c": (1, 2), "3": (3, 3)}
AUTH_PROTOCOLS = {
    "SHA": snmp_config.USM_AUTH_HMAC96_SHA,
    "SHA256": snmp_config.USM_AUTH_HMAC192_SHA256,
    "MD5": snmp_config.USM_AUTH_HMAC96_MD5,
}
PRIV_PROTOCOLS = {"AES": snmp_config.USM_PRIV_CFB128_AES, "DES": snmp_config.USM_PRIV_CBC56_DES}


class SnmpAgent:
    """A running agent; ``close()`` stops it. Build it with :func:`start_agent`."""

    def __init__(self, engine: Any, responders: list[Any], address: tuple[str, int]) -> None:
        self.engine = engine
        self.responders = responders
        self.address = address

    def close(self) -> None:
        for responder in self.responders:
            responder.close(self.engine)
        self.responders = []
        self.engine.close_dispatcher()


def bind_udp(address: str, port: int) -> tuple[socket.socket, bool]:
    """A bound, non-blocking UDP socket and whether it is IPv6; raises ``OSError``."""
    infos = socket.getaddrinfo(address, port, type=socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind(sockaddr)
    except OSError:
        sock.close()
        raise
    return sock, family == socket.AF_INET6


class BulkResponder(cmdrsp.BulkCommandResponder):  # type: ignore[misc]
    """GETBULK that stops repeating once every repeated variable has reached endOfMibView.

    RFC 3416 §4.2.3 lets the response carry fewer repetitions than asked; without this a walk that ends
    early gets max-repetitions copies of endOfMibView, which snmpbulkwalk prints one line each.
    """

    def handle_management_operation(self, snmpEngine: Any, stateReference: Any, contextName: Any, PDU: Any) -> None:
        non_repeaters = max(int(snmp_v2c.apiBulkPDU.get_non_repeaters(PDU)), 0)
        repetitions = max(int(snmp_v2c.apiBulkPDU.get_max_repetitions(PDU)), 0)
        requested = snmp_v2c.apiPDU.get_varbinds(PDU)
        n = min(non_repeaters, len(requested))
        r = max(len(requested) - n, 0)
        if r:
            repetitions = min(repetitions, self.max_varbinds // r)
        read_next = self.snmpContext.get_mib_instrum(contextName).read_next_variables
        context = {"snmpEngine": snmpEngine, "acFun": self.verify_access, "cbCtx": self.cbCtx}
        answer = list(read_next(*requested[:n], **context)) if n else []
        row = requested[-r:] if r else []
        while repetitions and r:
            row = list(read_next(*row, **context))
            answer.extend(row)
            repetitions -= 1
            if all(rfc1905.endOfMibView.isSameTypeWith(value) for _, value in row):
                break
        if not answer:
            raise smi_error.SmiError()
        self.send_varbinds(snmpEngine, stateReference, 0, 0, answer)
        self.release_state_information(stateReference)


def grant_read(
    engine: Any, security_model: int, security_name: str, level: str, subtrees: list[tuple[int, ...]]
) -> None:
    """VACM: ``security_name`` under ``security_model`` may read ``subtrees`` (and write nothing)."""
    (security_level,) = engine.get_mib_builder().import_symbols("SNMP-FRAMEWORK-MIB", "SnmpSecurityLevel")
    group = f"tigase-py-{security_model}-{security_name}"
    snmp_config.add_context(engine, b"")
    snmp_config.add_vacm_group(engine, group, security_model, security_name)
    snmp_config.add_vacm_access(
        engine, group, b"", security_model, security_level(level), "exact", READ_VIEW, NO_VIEW, NO_VIEW
    )
    for subtree in subtrees:
        snmp_config.add_vacm_view(engine, READ_VIEW, "included", subtree, b"")


def start_agent(server: Server, settings: SnmpConfig) -> SnmpAgent:
    """Start serving ``settings.base_oid`` on ``settings.address:port``; call from inside the running loop."""
    base = parse_oid(settings.base_oid)
    sock, ipv6 = bind_udp(settings.address, settings.port)
    bound = sock.getsockname()[:2]
    engine = snmp_engine.SnmpEngine()
    try:
        carrier = udp6 if ipv6 else udp
        snmp_config.add_transport(engine, carrier.DOMAIN_NAME, carrier.UdpTransport().open_server_mode(sock=sock))
        for version, (message_model, _) in MODELS.items():
            if version not in settings.versions:
                engine.message_processing_subsystems.pop(message_model, None)
        readable = [SYSTEM, base]
        community_versions = [v for v in ("1", "2c") if v in settings.versions]
        if settings.community is not None and community_versions:
            snmp_config.add_v1_system(engine, COMMUNITY_INDEX, settings.community)
            for version in community_versions:
                grant_read(engine, MODELS[version][1], COMMUNITY_INDEX, "noAuthNoPriv", readable)
        for user in settings.users if "3" in settings.versions else ():
            snmp_config.add_v3_user(
                engine,
                user.name,
                AUTH_PROTOCOLS[user.auth_protocol.upper()],
                user.auth_key,
                PRIV_PROTOCOLS[user.priv_protocol.upper()],
                user.priv_key,
            )
            grant_read(engine, MODELS["3"][1], user.name, "authPriv", readable)
        context = snmp_context.SnmpContext(engine)
        context.unregister_context_name(b"")
        context.register_context_name(b"", MetricsMibController(server, base, system_group(settings, base)))
        responders = [
            responder(engine, context)
            for responder in (
                cmdrsp.GetCommandResponder,
                cmdrsp.NextCommandResponder,
                BulkResponder,
                cmdrsp.SetCommandResponder,  # answers every SET with notWritable: the view is read-only
            )
        ]
    except Exception:
        engine.close_dispatcher()
        sock.close()
        raise
    log.info(
        "snmp agent on %s:%d base=%s versions=%s community=%s v3_users=%d",
        bound[0],
        bound[1],
        settings.base_oid,
        ",".join(settings.versions),
        settings.community is not None,
        len(settings.users) if "3" in settings.versions else 0,
    )
    return SnmpAgent(engine, responders, (bound[0], bound[1]))
