"""XEP-0191 with the roster and presence modules: blocking hides presence both ways (section 3.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.xmpp_harness import Client, RunningServer, login, running_server
from tigase_py.server.stores.roster import ROSTER, RosterItem

pytest.importorskip("tigase_py.server.modules.presence")
pytest.importorskip("tigase_py.server.modules.roster")

EXTRA = '[modules]\nenabled = ["roster", "presence", "disco", "ping", "blocking"]\n'


async def mutual_contacts(handle: RunningServer) -> tuple[Client, Client]:
    for jid in ("alice@localhost", "bob@localhost"):
        await handle.add_user(jid)
    roster = handle.server.storage.store(ROSTER)
    await roster.put_item("alice@localhost", RosterItem("bob@localhost", subscription="both"))
    await roster.put_item("bob@localhost", RosterItem("alice@localhost", subscription="both"))
    bob = await login(handle, "bob@localhost", plugins=("xep_0191",))
    alice = await login(handle, "alice@localhost", plugins=("xep_0191",))
    await bob.wait_presence(lambda p: p["from"].bare == "alice@localhost" and p["type"] == "available")
    return alice, bob


async def test_block_sends_unavailable_and_hides_later_presence(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice, bob = await mutual_contacts(handle)
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        await bob.wait_presence(lambda p: p["from"].bare == "alice@localhost" and p["type"] == "unavailable")
        alice.send_presence(pstatus="again")
        await alice.plugin["xep_0199"].ping(jid="localhost", timeout=10)
        await bob.plugin["xep_0199"].ping(jid="localhost", timeout=10)
        while not bob.presences.empty():
            assert bob.presences.get_nowait()["from"].bare != "alice@localhost"


async def test_blocked_contact_presence_does_not_reach_owner(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice, bob = await mutual_contacts(handle)
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        while not alice.presences.empty():
            alice.presences.get_nowait()
        bob.send_presence(pstatus="hello?")
        await bob.plugin["xep_0199"].ping(jid="localhost", timeout=10)
        await alice.plugin["xep_0199"].ping(jid="localhost", timeout=10)
        while not alice.presences.empty():
            assert alice.presences.get_nowait()["from"].bare != "bob@localhost"


async def test_unblock_sends_current_presence(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra=EXTRA) as handle:
        alice, bob = await mutual_contacts(handle)
        await alice.plugin["xep_0191"].block(["bob@localhost"])
        alice.send_presence(pstatus="back")
        await alice.plugin["xep_0191"].unblock(["bob@localhost"])
        presence = await bob.wait_presence(lambda p: p["from"].bare == "alice@localhost" and p["status"] == "back")
        assert presence["type"] == "available"
