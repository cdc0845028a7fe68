"""MariaDB frozen, then stopped, under load: live routing between online sessions goes on, storage
requests fail within the storage timeout with internal-server-error (type wait), `tigase-py status`
says storage is down, and once MariaDB is back the server recovers with nothing lost or duplicated.

A dedicated mariadbd per test (not the session's shared one), since the test stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.helpers import cli_command
from tests.server_process import ServerProcess
from tests.stanza_client import StanzaClient, error_condition
from tests.storage_fixtures import APP_PASSWORD, APP_USER, install_mariadb, start_mariadb, stop_mariadb
from tigase_py.server.storage.engine import open_storage

pytestmark = pytest.mark.mariadb

STORAGE_TIMEOUT = 2.0  # [storage] timeout in this test's config
BOUND = STORAGE_TIMEOUT + 1.0  # what a client may wait for an error, with slack for a busy machine
LIVE_INTERVAL = 0.01  # seconds between two live messages
MAX_LIVE = 10_000  # a bound on the load loop (about 100 s of it)
ROSTER_GET = "<iq type='get' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"
VCARD_GET = "<iq type='get' id='{id}'><vCard xmlns='vcard-temp'/></iq>"
PRIVATE_GET = "<iq type='get' id='{id}'><query xmlns='jabber:iq:private'><x xmlns='tests:faults'/></query></iq>"


class LiveLoad:
    """alice → bob chat messages every LIVE_INTERVAL; records when each was sent and received."""

    def __init__(self, alice: StanzaClient, bob: StanzaClient) -> None:
        self.alice, self.bob = alice, bob
        self.sent_at: dict[str, float] = {}
        self.stop = asyncio.Event()

    async def run(self) -> None:
        n = 0
        while not self.stop.is_set() and n < MAX_LIVE:
            stanza_id = f"live-{n}"
            self.sent_at[stanza_id] = time.monotonic()
            self.alice.send(f"<message to='bob@localhost' id='{stanza_id}' type='chat'><body>x</body></message>")
            n += 1
            await asyncio.sleep(LIVE_INTERVAL)  # pacing of the load, not a synchronisation

    def delivered_between(self, start: float, end: float) -> list[str]:
        return [i for i in self.bob.message_ids() if i in self.sent_at and start <= self.sent_at[i] < end]

    def worst_latency(self, ids: list[str]) -> float:
        return max(self.bob.arrived_at[i] - self.sent_at[i] for i in ids)


async def timed_error(client: StanzaClient, template: str) -> tuple[float, tuple[str, str] | None]:
    start = time.monotonic()
    reply = await client.request(template, timeout=30)
    return time.monotonic() - start, error_condition(reply)


async def offline_message(client: StanzaClient, stanza_id: str) -> tuple[float, tuple[str, str] | None]:
    """Send a message to carol (offline); (seconds to the verdict, its error or None when stored)."""
    start = time.monotonic()
    client.send(f"<message to='carol@localhost' id='{stanza_id}' type='chat'><body>{stanza_id}</body></message>")
    await asyncio.wait_for(client.ping(), 30)
    return time.monotonic() - start, client.errors_for().get(stanza_id)


async def status_json(server: ServerProcess) -> tuple[int, dict[str, object]]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TIGASE_PY_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        *cli_command(), "--config", os.fspath(server.config), "status", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, json.loads(out)


async def until_recovered(client: StanzaClient, deadline: float = 20.0) -> float:
    """Seconds until a roster get succeeds again (each attempt is itself bounded)."""
    start = time.monotonic()
    while True:
        reply: ElementTree.Element = await client.request(ROSTER_GET, timeout=30)
        if reply.get("type") == "result":
            return time.monotonic() - start
        assert time.monotonic() - start < deadline, "storage did not recover"


async def test_mariadb_frozen_then_stopped_under_load(tmp_path: Path) -> None:
    root = tmp_path / "mariadb"
    root.mkdir()
    install_mariadb(root)
    db, mariadbd = start_mariadb(root)
    server = None
    try:
        db.sql(
            f"CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}';"
            "CREATE DATABASE tigase CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            f"GRANT ALL PRIVILEGES ON tigase.* TO '{APP_USER}'@'%';"
        )
        url = db.url("tigase")
        storage = await open_storage(url, create=True)
        for name in ("alice", "bob", "carol", "dave"):
            await storage.users.create(name, "localhost", "secret")
        await storage.close()
        server = ServerProcess.prepare(tmp_path / "xmpp", url, storage={"timeout": f"{STORAGE_TIMEOUT:g}s"})
        await server.start()
        alice = await StanzaClient.login(server.c2s_port, "alice@localhost")
        bob = await StanzaClient.login(server.c2s_port, "bob@localhost")
        # dave's requests wait for the database; alice's messages to bob must not (sessions are independent)
        dave = await StanzaClient.login(server.c2s_port, "dave@localhost")
        for client in (alice, bob, dave):
            client.send("<presence/>")
            await client.ping()
        stored_before = [f"before-{n}" for n in range(5)]
        for stanza_id in stored_before:
            assert (await offline_message(dave, stanza_id))[1] is None
        load = LiveLoad(alice, bob)
        live = asyncio.get_running_loop().create_task(load.run())

        # 1. Frozen (SIGSTOP): connections open but nothing answers; every request is bounded by the timeout.
        mariadbd.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        frozen = [await timed_error(dave, ROSTER_GET), await timed_error(dave, VCARD_GET)]
        frozen_offline = await offline_message(dave, "frozen-0")
        mariadbd.send_signal(signal.SIGCONT)
        thawed_at = time.monotonic()
        recovered_from_freeze = await until_recovered(dave)

        # 2. Stopped: connections refused; errors come at once.
        stop_mariadb(mariadbd)
        stopped_at = time.monotonic()
        stopped = [await timed_error(dave, q) for q in (ROSTER_GET, VCARD_GET, PRIVATE_GET)]
        stopped_offline = await offline_message(dave, "stopped-0")
        with pytest.raises(ConnectionError, match="temporary-auth-failure"):
            await StanzaClient.login(server.c2s_port, "carol@localhost")
        status_code, status = await status_json(server)
        outage_checked = time.monotonic()

        db, mariadbd = start_mariadb(root, db.port)
        restarted_at = time.monotonic()
        recovered_from_stop = await until_recovered(dave)
        stored_after = [f"after-{n}" for n in range(5)]
        for stanza_id in stored_after:
            assert (await offline_message(dave, stanza_id))[1] is None
        load.stop.set()
        await live
        await alice.ping()
        await bob.ping()  # bob has everything alice's session routed
        carol = await StanzaClient.login(server.c2s_port, "carol@localhost")
        carol.send("<presence/>")
        await carol.ping()
        offline = Counter(carol.message_ids())
        received = Counter(bob.message_ids())
        for client in (alice, bob, carol, dave):
            await client.close()
    finally:
        if server is not None:
            await server.stop()
        if mariadbd.poll() is None:
            mariadbd.send_signal(signal.SIGCONT)  # a stopped process would not act on SIGTERM
        stop_mariadb(mariadbd)

    wait_error = ("wait", "internal-server-error")
    for seconds, error in [*frozen, frozen_offline, *stopped, stopped_offline]:
        assert error == wait_error
        assert seconds < BOUND
    assert status_code == 1 and status["state"] == "unhealthy"
    assert "http: storage is down" in status["problems"]  # type: ignore[operator]
    # Nothing lost or duplicated: stored messages arrive once; refused ones were answered with an error.
    assert offline == Counter(stored_before + stored_after)
    assert set(load.sent_at) == set(received) and max(received.values()) == 1
    during_freeze = load.delivered_between(frozen_at, thawed_at)
    during_stop = load.delivered_between(stopped_at, outage_checked)
    assert len(during_freeze) > 10 and len(during_stop) > 10, (len(during_freeze), len(during_stop))
    worst = load.worst_latency(during_freeze + during_stop)
    assert worst < STORAGE_TIMEOUT  # a message that waited for the database would take at least that
    assert "Traceback" not in server.log.read_text()
    print(
        f"\nfrozen: errors after {', '.join(f'{s:.2f}' for s, _ in [*frozen, frozen_offline])} s, "
        f"recovered {recovered_from_freeze:.2f} s after SIGCONT, {len(during_freeze)} live messages meanwhile"
        f"\nstopped: errors after {', '.join(f'{s:.3f}' for s, _ in [*stopped, stopped_offline])} s, "
        f"recovered {recovered_from_stop:.2f} s after restart ({restarted_at - stopped_at:.1f} s outage), "
        f"{len(during_stop)} live messages during it; {len(load.sent_at)} live messages, 0 lost, 0 duplicated, "
        f"worst live latency during the outages {worst * 1000:.0f} ms"
    )
