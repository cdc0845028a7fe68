"""Stream negotiation with slixmpp as the client: STARTTLS, direct TLS, SCRAM, PLAIN, binding."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.xmpp_harness import RawClient, login, running_server
from tigase_py.server import jid

NO_MODULES = "[modules]\nenabled = []\n"


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
async def test_starttls_login_with_each_mechanism(tmp_path: Path, mechanism: str) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        await handle.add_user("alice@localhost", "wonderland")
        client = await login(handle, "alice@localhost", "wonderland", mechanism=mechanism, send_presence=False)
        assert client.boundjid.bare == "alice@localhost"
        assert client.boundjid.resource
        session = handle.server.sessions.get(jid.parse(str(client.boundjid)))
        assert session is not None and session.secure


async def test_direct_tls_login(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        await handle.add_user("bob@localhost")
        client = await login(handle, "bob@localhost", mode="direct", send_presence=False)
        assert client.boundjid.bare == "bob@localhost"


async def test_wrong_password_is_not_authorized_and_leaks_nothing(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        await handle.add_user("alice@localhost", "right")
        with pytest.raises(AssertionError, match="failed_auth"):
            await login(handle, "alice@localhost", "wrong", send_presence=False)
        with pytest.raises(AssertionError, match="failed_auth"):
            await login(handle, "nobody@localhost", "wrong", send_presence=False)
        assert handle.server.auth_failures >= 2
        # the server keeps serving
        client = await login(handle, "alice@localhost", "right", send_presence=False)
        assert client.boundjid.bare == "alice@localhost"


async def test_plain_mechanism_is_not_offered_before_tls(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        raw = await RawClient.connect(handle.starttls_port)
        await raw.open_stream()
        features = raw.received.decode()
        assert "<starttls" in features and "<required" in features
        assert "<mechanism>" not in features
        raw.close()


async def test_requested_resource_is_bound_and_conflict_replaces_the_old_session(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        await handle.add_user("alice@localhost")
        first = await login(handle, "alice@localhost/desk", send_presence=False)
        assert str(first.boundjid) == "alice@localhost/desk"
        second = await login(handle, "alice@localhost/desk", send_presence=False)
        assert str(second.boundjid) == "alice@localhost/desk"
        reason = await asyncio.wait_for(first.failed, 10)
        assert reason == "stream_error:conflict"


async def test_an_idle_session_whose_parser_was_freed_keeps_working(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        await handle.add_user("alice@localhost")
        client = await login(handle, "alice@localhost", send_presence=False)
        [connection] = [c for c in handle.server.connections if c.session is not None]
        connection.sweep_idle()  # first sweep: it was active
        connection.sweep_idle()
        assert connection.parser.is_hibernating
        client.send_message(mto=client.boundjid.full, mbody="after a nap")
        assert (await client.next_message())["body"] == "after a nap"
        assert not connection.parser.is_hibernating
