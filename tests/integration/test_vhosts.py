"""Several vhosts on one server: separate accounts, and vhosts added or removed while running."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_for_port
from tests.xmpp_harness import RawClient, login, running_server, write_config

NO_MODULES = "[modules]\nenabled = []\n"


async def test_same_username_on_two_vhosts_are_two_accounts(tmp_path: Path) -> None:
    async with running_server(tmp_path, vhosts=("one.test", "two.test"), extra=NO_MODULES) as handle:
        await handle.add_user("alice@one.test", "first")
        await handle.add_user("alice@two.test", "second")
        with pytest.raises(AssertionError, match="failed_auth"):
            await login(handle, "alice@two.test", "first", send_presence=False)
        one = await login(handle, "alice@one.test", "first", send_presence=False)
        two = await login(handle, "alice@two.test", "second", send_presence=False)
        one.send_message(mto=two.boundjid.full, mbody="across vhosts")
        message = await two.next_message()
        assert message["from"] == one.boundjid and message["body"] == "across vhosts"


async def test_vhost_added_and_removed_at_run_time(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=NO_MODULES) as handle:
        storage = handle.server.storage
        await storage.vhosts.add("late.test")
        await handle.server.sync_vhosts()
        await handle.add_user("carol@late.test")
        carol = await login(handle, "carol@late.test", send_presence=False)
        await storage.vhosts.remove("late.test")
        await handle.server.sync_vhosts()
        assert await asyncio.wait_for(carol.failed, 10) == "stream_error:host-gone"
        raw = await RawClient.connect(handle.plain_port)
        await raw.send(
            "<stream:stream to='late.test' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        )
        assert b"<host-unknown " in await raw.read_to_close()


async def test_sigterm_closes_every_stream_cleanly(tmp_path: Path) -> None:
    path, starttls, _direct, plain = write_config(tmp_path, ("localhost",), NO_MODULES)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tigase_py.server", "--config", str(path), stderr=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", plain, 20)
        raw = await RawClient.connect(plain)
        await raw.open_stream()
        process.send_signal(signal.SIGTERM)
        data = await raw.read_to_close()
        assert b"<system-shutdown " in data and data.rstrip().endswith(b"</stream:stream>")
        assert await asyncio.wait_for(process.wait(), 20) == 0
        assert not (tmp_path / "tigase.pid").exists()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
