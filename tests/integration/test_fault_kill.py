"""kill -9 under a steady message load, then restart on the same database: every message the server
acknowledged is there exactly once, and no message is there twice.

Acknowledgement: the server has no XEP-0198 yet, so the sender follows each batch of messages with
a server ping. A session's stanzas are handled one at a time, in order (`C2SStream._work`), so
a pong means every message sent before that ping was handled: written to the online recipient's
connection, committed to offline storage, or answered with an error. Messages after the last pong
are unacknowledged: they may be there or not, but never twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.server_process import ServerProcess
from tests.stanza_client import StanzaClient
from tigase_py.server.storage.engine import open_storage

BATCH = 10  # messages between two pings
WINDOW = 4  # pings in flight
KILL_AFTER_ACKED = 300  # acknowledged messages (each recipient) before the kill
MAX_BATCHES = 400
EXTRA = '[modules]\nenabled = ["presence", "roster", "offline", "ping"]\n[limits]\noffline_queue_size = 100000\n'


async def create_accounts(url: str, *names: str) -> None:
    storage = await open_storage(url, create=True)
    try:
        for name in names:
            await storage.users.create(name, "localhost", "secret")
    finally:
        await storage.close()


def message(to: str, stanza_id: str) -> str:
    return f"<message to='{to}' id='{stanza_id}' type='chat'><body>{stanza_id}</body></message>"


class Sender:
    """Sends batches to both recipients; `acked` holds the ids of every batch whose ping was answered."""

    def __init__(self, client: StanzaClient, enough: int) -> None:
        self.client = client
        self.sent: list[str] = []
        self.acked: set[str] = set()
        self.batches = 0
        self.enough = enough
        self.reached = asyncio.Event()  # `enough` messages acknowledged

    async def run(self) -> None:
        in_flight: list[tuple[asyncio.Future[object], list[str]]] = []
        while self.batches < MAX_BATCHES and not self.client.closed.is_set():
            batch = []
            for _ in range(BATCH // 2):
                n = len(self.sent) // 2
                for prefix, to in (("off", "carol@localhost"), ("on", "bob@localhost")):
                    stanza_id = f"{prefix}-{n}"
                    self.client.send(message(to, stanza_id))
                    self.sent.append(stanza_id)
                    batch.append(stanza_id)
            in_flight.append((self.client.ping(), batch))  # type: ignore[arg-type]
            self.batches += 1
            try:
                await self.client.writer.drain()
            except ConnectionError:
                return
            while len(in_flight) >= WINDOW or (in_flight and in_flight[0][0].done()):
                future, ids = in_flight.pop(0)
                try:
                    await future
                except ConnectionError:
                    return
                self.acked.update(ids)
                if len(self.acked) >= self.enough:
                    self.reached.set()


@pytest.mark.parametrize("storage_url", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True)
async def test_kill_9_under_load_keeps_every_acknowledged_message_exactly_once(
    tmp_path: Path, storage_url: str
) -> None:
    await create_accounts(storage_url, "alice", "bob", "carol")
    server = ServerProcess.prepare(tmp_path, storage_url, EXTRA)
    await server.start()
    try:
        bob = await StanzaClient.login(server.c2s_port, "bob@localhost")
        bob.send("<presence/>")
        await bob.ping()  # available before the load starts
        alice = await StanzaClient.login(server.c2s_port, "alice@localhost")
        sender = Sender(alice, 2 * KILL_AFTER_ACKED)
        load = asyncio.get_running_loop().create_task(sender.run())
        reached = asyncio.ensure_future(sender.reached.wait())
        await asyncio.wait([load, reached], timeout=30, return_when="FIRST_COMPLETED")
        reached.cancel()
        assert sender.reached.is_set() and not load.done(), f"the load ended early after {sender.batches} batches"
        async with asyncio.timeout(15):  # kill while bob receives messages not acknowledged yet
            while not set(bob.message_ids()) - sender.acked:
                bob.arrived.clear()
                await bob.arrived.wait()
        await server.kill()
        await asyncio.wait_for(load, 15)
        await asyncio.wait_for(bob.closed.wait(), 15)
        live = bob.message_ids()
        await alice.close()
        await bob.close()

        await server.start()
        carol = await StanzaClient.login(server.c2s_port, "carol@localhost")
        bob_again = await StanzaClient.login(server.c2s_port, "bob@localhost", resource="again")
        for client in (carol, bob_again):
            client.send("<presence/>")
            await client.ping()  # offline messages are sent while the presence is handled, before the pong
        offline = carol.message_ids()
        received = Counter(live + bob_again.message_ids() + offline)
        await carol.close()
        await bob_again.close()
    finally:
        await server.stop()

    acked = sender.acked
    unacked = set(sender.sent) - acked
    assert len(acked) >= 2 * KILL_AFTER_ACKED
    assert unacked, "the kill came after the last message: nothing was in flight"
    missing = sorted(acked - set(received))
    duplicated = sorted(i for i, n in received.items() if n > 1)
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:5]}"
    assert not duplicated, f"{len(duplicated)} messages delivered twice, e.g. {duplicated[:5]}"
    assert set(received) <= set(sender.sent)
    assert all(i.startswith("off-") for i in offline) and all(not i.startswith("off-") for i in live)
    print(  # figures for the README
        f"\nkill -9 ({storage_url.split(':')[0]}): sent {len(sender.sent)}, acknowledged {len(acked)}, "
        f"in flight at the kill {len(unacked)} (kept {len(set(received) & unacked)}), lost 0, duplicated 0"
    )
