"""The SNMP agent: serves the metrics registry as TIGASE-PY-MIB (v2c read-only community and SNMPv3 USM
authPriv users), on UDP in the server's own event loop.

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

from tigase_py.server.observe.snmp_table import MetricsMibController, parse_oid

if TYPE_CHECKING:
    from tigase_py.server.config.schema import SnmpConfig
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.snmp")

COMMUNITY_INDEX = "tigase-py-ro"
V2C_MODEL = 2
USM_MODEL = 3
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


def start_agent(server: Server, settings: SnmpConfig) -> SnmpAgent:
    """Start serving ``settings.base_oid`` on ``settings.address:port``; call from inside the running loop."""
    base = parse_oid(settings.base_oid)
    sock, ipv6 = bind_udp(settings.address, settings.port)
    bound = sock.getsockname()[:2]
    engine = snmp_engine.SnmpEngine()
    try:
        carrier = udp6 if ipv6 else udp
        snmp_config.add_transport(engine, carrier.DOMAIN_NAME, carrier.UdpTransport().open_server_mode(sock=sock))
        if settings.community is not None:
            snmp_config.add_v1_system(engine, COMMUNITY_INDEX, settings.community)
            snmp_config.add_vacm_user(engine, V2C_MODEL, COMMUNITY_INDEX, "noAuthNoPriv", base)
        for user in settings.users:
            snmp_config.add_v3_user(
                engine,
                user.name,
                AUTH_PROTOCOLS[user.auth_protocol.upper()],
                user.auth_key,
                PRIV_PROTOCOLS[user.priv_protocol.upper()],
                user.priv_key,
            )
            snmp_config.add_vacm_user(engine, USM_MODEL, user.name, "authPriv", base)
        context = snmp_context.SnmpContext(engine)
        context.unregister_context_name(b"")
        context.register_context_name(b"", MetricsMibController(server, base))
        responders = [
            responder(engine, context)
            for responder in (
                cmdrsp.GetCommandResponder,
                cmdrsp.NextCommandResponder,
                cmdrsp.BulkCommandResponder,
                cmdrsp.SetCommandResponder,  # answers every SET with notWritable: the view is read-only
            )
        ]
    except Exception:
        engine.close_dispatcher()
        sock.close()
        raise
    log.info(
        "snmp agent on %s:%d base=%s v2c=%s v3_users=%d",
        bound[0],
        bound[1],
        settings.base_oid,
        settings.community is not None,
        len(settings.users),
    )
    return SnmpAgent(engine, responders, (bound[0], bound[1]))
