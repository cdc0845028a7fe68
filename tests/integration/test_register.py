"""XEP-0077 in-band registration: slixmpp registers and logs in; raw streams probe the refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from slixmpp.exceptions import IqError

from tests.xmpp_harness import TIMEOUT, Client, RawClient, RunningServer, login, running_server

MODULES = '[modules]\nenabled = ["disco", "ping", "register"]\n'
OPEN = MODULES + '[vhosts."localhost"]\nregistration = true\n'
PLUGINS = ("xep_0004", "xep_0066", "xep_0077")


async def register_and_login(handle: RunningServer, jid: str, password: str) -> Client:
    """Connect a slixmpp client that registers ``jid`` from the stream feature, then logs in."""
    client = Client(jid, password, PLUGINS)
    client.enable_direct_tls = False

    async def fill_form(_form: Any) -> None:
        iq = client.make_iq_set()
        iq["register"]["username"] = client.boundjid.user
        iq["register"]["password"] = password
        await iq.send(timeout=10)

    client.add_event_handler("register", fill_form)
    client.connect("127.0.0.1", handle.starttls_port)
    handle.clients.append(client)
    done, _ = await asyncio.wait([client.started, client.failed], timeout=TIMEOUT, return_when="FIRST_COMPLETED")
    assert client.started in done, client.failed.result() if client.failed.done() else "timeout"
    return client


async def raw_register(handle: RunningServer, payload: str, iq_type: str = "set") -> bytes:
    raw = await RawClient.connect(handle.plain_port)
    try:
        await raw.open_stream()
        await raw.send(f"<iq type='{iq_type}' id='r1'><query xmlns='jabber:iq:register'>{payload}</query></iq>")
        return await raw.read_until(b"</iq>")
    finally:
        raw.close()


async def test_register_new_account_then_login(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=OPEN) as handle:
        await register_and_login(handle, "newbie@localhost", "s3cret!")
        assert await handle.server.storage.users.exists("newbie", "localhost")
        again = await login(handle, "newbie@localhost", "s3cret!")
        assert again.boundjid.bare == "newbie@localhost"


async def test_register_feature_advertised_only_when_enabled(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=OPEN) as handle:
        raw = await RawClient.connect(handle.plain_port)
        await raw.open_stream()
        raw.close()
        assert b"http://jabber.org/features/iq-register" in raw.received
    async with running_server(tmp_path / "closed", extra=MODULES) as handle:
        raw = await RawClient.connect(handle.plain_port)
        await raw.open_stream()
        raw.close()
        assert b"iq-register" not in raw.received


async def test_register_disabled_vhost_is_service_unavailable(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=MODULES) as handle:
        reply = await raw_register(handle, "<username>x</username><password>y</password>")
        assert b"service-unavailable" in reply
        assert not await handle.server.storage.users.exists("x", "localhost")


async def test_register_form_and_refusals(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=OPEN) as handle:
        await handle.add_user("alice@localhost")
        form = await raw_register(handle, "", iq_type="get")
        assert b"<instructions>" in form and b"<username/>" in form and b"<password/>" in form
        taken = await raw_register(handle, "<username>alice</username><password>pw</password>")
        assert b"<conflict" in taken
        malformed = await raw_register(handle, "<username>a b</username><password>pw</password>")
        assert b"jid-malformed" in malformed
        missing = await raw_register(handle, "<username>zed</username>")
        assert b"not-acceptable" in missing
        assert not await handle.server.storage.users.exists("zed", "localhost")


async def test_change_password_and_cancel_after_login(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=MODULES) as handle:
        await handle.add_user("alice@localhost")
        alice = await login(handle, "alice@localhost", plugins=PLUGINS)
        await alice.plugin["xep_0077"].change_password("n3w-password")
        assert await handle.server.storage.users.verify_password("alice", "localhost", "n3w-password")
        again = await login(handle, "alice@localhost", "n3w-password", plugins=PLUGINS)
        await again.plugin["xep_0077"].cancel_registration()
        assert not await handle.server.storage.users.exists("alice", "localhost")


async def test_change_password_of_another_user_is_not_allowed(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=MODULES) as handle:
        await handle.add_user("alice@localhost")
        await handle.add_user("bob@localhost")
        alice = await login(handle, "alice@localhost", plugins=PLUGINS)
        iq = alice.make_iq_set()
        iq["register"]["username"] = "bob"
        iq["register"]["password"] = "stolen"
        with pytest.raises(IqError) as caught:
            await iq.send(timeout=10)
        assert caught.value.condition == "not-allowed"
        assert await handle.server.storage.users.verify_password("bob", "localhost", "secret")
