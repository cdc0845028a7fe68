"""A slixmpp client factory for cases easier written at a higher level; its traffic is recorded too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from tigase_py.compat_tests import transcript
from tigase_py.compat_tests.client import TIMEOUT, tls_context
from tigase_py.compat_tests.target import Account, Target

DEFAULT_PLUGINS = ("xep_0030", "xep_0199")


@contextlib.asynccontextmanager
async def slixmpp_client(
    target: Target, account: Account, plugins: tuple[str, ...] = (), resource: str = "compat"
) -> AsyncIterator[Any]:
    """A connected, session-started ``slixmpp.ClientXMPP``; disconnected on exit."""
    import slixmpp

    client = slixmpp.ClientXMPP(f"{account.jid}/{resource}", account.password)
    client.ssl_context = tls_context(target)
    for plugin in (*DEFAULT_PLUGINS, *plugins):
        client.register_plugin(plugin)
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_start(_event: object) -> None:
        if not started.done():
            started.set_result(None)

    def on_failed(*_args: object) -> None:
        if not started.done():
            started.set_exception(AssertionError("authentication failed"))

    client.add_event_handler("session_start", on_start)
    client.add_event_handler("failed_auth", on_failed)
    recorder = transcript.SlixmppRecorder(account.local)
    logger = logging.getLogger("slixmpp.xmlstream.xmlstream")
    previous = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    try:
        client.enable_starttls = target.tls == "starttls"
        client.enable_direct_tls = target.tls == "direct"
        client.enable_plaintext = target.tls == "plain"
        client.connect(host=target.host, port=target.port)
        await asyncio.wait_for(started, TIMEOUT)
        yield client
    finally:
        client.disconnect()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnected, 5)
        logger.removeHandler(recorder)
        logger.setLevel(previous)
