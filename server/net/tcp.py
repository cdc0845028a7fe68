"""TCP listeners for c2s: STARTTLS (5222), direct TLS (XEP-0368, 5223) or plaintext."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tigase_py.server.net.c2s import C2SConnection, stream_services

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ListenerConfig
    from tigase_py.server.core.server import Server
    from tigase_py.server.net.tls import TlsSetup


async def start_listener(server: Server, listener: ListenerConfig, tls: TlsSetup | None) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    direct = listener.tls == "direct"
    if direct and tls is None:
        raise ValueError(f"listener {listener.address}:{listener.port} needs a TLS certificate")

    stream_tls = tls if listener.tls != "none" else None
    services = stream_services(server, listener, stream_tls)

    def factory() -> C2SConnection:
        return C2SConnection(server, services, listener, stream_tls, direct)

    return await loop.create_server(
        factory,
        host=listener.address,
        port=listener.port,
        ssl=tls.context if (direct and tls is not None) else None,
        reuse_address=True,
        backlog=1024,
        ssl_handshake_timeout=30 if direct else None,
    )
