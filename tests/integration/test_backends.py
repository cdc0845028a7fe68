"""The same XMPP flows on both storage backends: embedded SQLite and a real MariaDB server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.xmpp_harness import login, running_server
from tigase_py.server.storage.migrate import upgrade_schema

MODULES = '[modules]\nenabled = ["roster", "presence", "offline", "ping", "blocking"]\n'


@pytest.mark.parametrize("storage_url", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True)
async def test_login_roster_chat_offline_and_blocking(tmp_path: Path, storage_url: str) -> None:
    await upgrade_schema(storage_url)
    async with running_server(tmp_path, extra=MODULES, storage_url=storage_url) as handle:
        await handle.add_user("alice@localhost")
        await handle.add_user("bob@localhost")
        alice = await login(handle, "alice@localhost", plugins=("xep_0191",))
        alice.update_roster("bob@localhost", name="Bob", groups=["friends"])
        roster = await alice.get_roster()
        assert roster["roster"]["items"]["bob@localhost"]["name"] == "Bob"
        for n in range(3):
            alice.send_message(mto="bob@localhost", mbody=f"offline {n}", mtype="chat")
        await alice.plugin["xep_0199"].ping(jid="localhost")  # everything before it has been routed
        bob = await login(handle, "bob@localhost")
        bodies = [(await bob.next_message())["body"] for _ in range(3)]
        assert bodies == ["offline 0", "offline 1", "offline 2"]
        bob.send_message(mto=alice.boundjid.full, mbody="live", mtype="chat")
        assert (await alice.next_message())["body"] == "live"
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        blocked = await alice.plugin["xep_0191"].get_blocked()
        assert {str(item["jid"]) for item in blocked["blocklist"]} == {"bob@localhost"}
