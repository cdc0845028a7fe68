"""Account deletion and export ask every registered store, in memory, on SQLite and on MariaDB.

`SAMPLES` fills one account in each store; a store added without a sample fails
`test_every_store_has_a_sample`, so these tests always cover every store there is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tigase_py.server.storage import users as users_module
from tigase_py.server.storage.engine import Storage, open_storage
from tigase_py.server.storage.errors import StorageError
from tigase_py.server.storage.memory import MemoryStorage
from tigase_py.server.storage.metadata import metadata
from tigase_py.server.storage.registry import discover
from tigase_py.server.storage.spec import Stores
from tigase_py.server.stores.blocking import BLOCKING
from tigase_py.server.stores.last_activity import LAST_ACTIVITY
from tigase_py.server.stores.offline import OFFLINE
from tigase_py.server.stores.pubsub import PUBSUB
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.stores.user_xml import USER_XML

ALICE = "alice@example.com"
BOB = "bob@example.com"
NOBODY = "nobody@example.com"
PASSWORD = "pw"


async def fill_roster(stores: Stores, owner: str) -> None:
    await stores.get(ROSTER).put_item(owner, RosterItem("friend@example.net", subscription="both", groups=("F",)))


async def fill_offline(stores: Stores, owner: str) -> None:
    await stores.get(OFFLINE).push(owner, "<message id='1'/>", 10)
    await stores.get(OFFLINE).push(owner, "<message id='2'/>", 10)


async def fill_user_xml(stores: Stores, owner: str) -> None:
    await stores.get(USER_XML).set(owner, "vcard", "", "<vCard xmlns='vcard-temp'/>")
    await stores.get(USER_XML).set(owner, "private", "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>")


async def fill_blocking(stores: Stores, owner: str) -> None:
    await stores.get(BLOCKING).add(owner, ["spam@example.net"])


async def fill_last_activity(stores: Stores, owner: str) -> None:
    await stores.get(LAST_ACTIVITY).set(owner, 1_700_000_000, "gone")


async def fill_pubsub(stores: Stores, owner: str) -> None:
    """A node the account created (with its owner affiliation), an item it published, a subscription."""
    pubsub = stores.get(PUBSUB)
    node = f"news-{owner}"
    await pubsub.create_node("pubsub.example.com", node, owner, {"max_items": 10})
    await pubsub.publish("pubsub.example.com", node, "i1", owner, "<entry xmlns='urn:x'/>", 10)
    await pubsub.subscribe("pubsub.example.com", node, f"{owner}/phone", "s1", "subscribed")


SAMPLES: dict[str, Callable[[Stores, str], Awaitable[None]]] = {
    ROSTER.name: fill_roster,
    OFFLINE.name: fill_offline,
    USER_XML.name: fill_user_xml,
    BLOCKING.name: fill_blocking,
    LAST_ACTIVITY.name: fill_last_activity,
    PUBSUB.name: fill_pubsub,
}


async def fill(stores: Stores, owner: str) -> None:
    for spec, _ in stores:
        await SAMPLES[spec.name](stores, owner)


def test_every_store_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(spec.name for spec in discover())


def test_every_owner_table_belongs_to_a_store() -> None:
    declared = {table.name for spec in discover() for table in spec.tables}
    owned = {table.name for table in metadata.tables.values() if "owner" in table.c}
    assert owned == declared


async def test_export_names_every_store(feature_stores: Stores) -> None:
    await fill(feature_stores, ALICE)
    exported = await feature_stores.export_account(ALICE)
    assert sorted(exported) == sorted(spec.name for spec in discover())
    assert exported[ROSTER.name] == {
        "version": 1,
        "items": [
            {
                "jid": "friend@example.net",
                "name": None,
                "subscription": "both",
                "ask": False,
                "pending_in": False,
                "approved": False,
                "groups": ["F"],
            }
        ],
    }
    assert exported[OFFLINE.name] == ["<message id='1'/>", "<message id='2'/>"]
    assert exported[USER_XML.name] == [
        {"kind": "private", "key": "storage:bookmarks", "xml": "<storage xmlns='storage:bookmarks'/>"},
        {"kind": "vcard", "key": "", "xml": "<vCard xmlns='vcard-temp'/>"},
    ]
    assert exported[BLOCKING.name] == ["spam@example.net"]
    assert exported[LAST_ACTIVITY.name] == {"seconds": 1_700_000_000, "status": "gone"}
    node = f"news-{ALICE}"
    assert exported[PUBSUB.name] == [
        {"kind": "affiliation", "service": "pubsub.example.com", "node": node, "affiliation": "owner"},
        {
            "kind": "item",
            "service": "pubsub.example.com",
            "node": node,
            "id": "i1",
            "payload": "<entry xmlns='urn:x'/>",
        },
        {"kind": "node", "service": "pubsub.example.com", "node": node, "config": {"max_items": 10}},
        {
            "kind": "subscription",
            "service": "pubsub.example.com",
            "node": node,
            "jid": f"{ALICE}/phone",
            "subid": "s1",
            "state": "subscribed",
        },
    ]
    for value in (await feature_stores.export_account(NOBODY)).values():
        assert value in (None, [], {"version": 0, "items": []})


async def test_delete_account_empties_every_store_for_that_owner_only(feature_stores: Stores) -> None:
    empty = await feature_stores.export_account(NOBODY)
    await fill(feature_stores, ALICE)
    await fill(feature_stores, BOB)
    kept = await feature_stores.export_account(BOB)
    await feature_stores.delete_account(ALICE, None)  # SQL stores: each in a transaction of its own
    assert await feature_stores.export_account(ALICE) == empty
    assert await feature_stores.export_account(BOB) == kept


async def count_owned_rows(storage: Storage, owner: str) -> int:
    total = 0
    async with storage.db.connection() as conn:
        for spec in discover():
            for table in spec.tables:
                query = sa.select(sa.func.count()).select_from(table).where(table.c.owner == owner)
                total += int(await conn.scalar(query) or 0)
    return total


async def test_user_delete_removes_every_store_in_one_transaction(storage: Storage) -> None:
    empty = await storage.export_account(NOBODY)
    await storage.users.create("alice", "example.com", PASSWORD)
    await storage.users.create("bob", "example.com", PASSWORD)
    await fill(storage.stores, ALICE)
    await fill(storage.stores, BOB)
    kept = await storage.export_account(BOB)
    assert await count_owned_rows(storage, ALICE) == 12
    assert await storage.users.delete("alice", "example.com")
    assert not await storage.users.delete("alice", "example.com")
    assert not await storage.users.exists("alice", "example.com")
    assert await count_owned_rows(storage, ALICE) == 0
    assert await storage.export_account(ALICE) == empty
    assert await storage.export_account(BOB) == kept
    assert await storage.users.verify_password("bob", "example.com", PASSWORD)


async def test_delete_user_data_without_an_account(storage: Storage) -> None:
    await fill(storage.stores, ALICE)
    await storage.delete_user_data(ALICE)
    assert await count_owned_rows(storage, ALICE) == 0
    async with storage.db.connection() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(users_module.users)) == 0


async def test_user_delete_rolls_back_every_store_when_one_fails(storage: Storage, monkeypatch: Any) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    await fill(storage.stores, ALICE)
    before = await storage.export_account(ALICE)
    last_spec, last_store = list(storage.stores)[-1]

    async def broken(owner: str, conn: Any) -> None:
        raise StorageError(f"{last_spec.name} refused")

    monkeypatch.setattr(last_store, "delete_account", broken)
    with pytest.raises(StorageError, match="refused"):
        await storage.users.delete("alice", "example.com")
    assert await storage.users.exists("alice", "example.com")
    assert await storage.export_account(ALICE) == before


async def test_cli_storage_sees_every_store_whatever_the_config(tmp_path: Path) -> None:
    """`open_storage` (what `tigase-py user delete` opens without a server) asks every store."""
    storage = await open_storage(f"sqlite:///{tmp_path / 'cli.db'}", create=True)
    try:
        assert {spec.name for spec in storage.stores.specs} == {spec.name for spec in discover()}
    finally:
        await storage.close()


async def test_memory_storage_deletes_and_exports() -> None:
    memory = MemoryStorage()
    empty = await memory.export_account(NOBODY)
    await fill(memory.stores, ALICE)
    assert await memory.export_account(ALICE) != empty
    await memory.delete_user_data(ALICE)
    assert await memory.export_account(ALICE) == empty


def test_cli_user_delete_reaches_stores_of_modules_not_enabled(tmp_path: Path, monkeypatch: Any) -> None:
    """`tigase-py user delete` without a server, with only ping enabled: every store is emptied."""
    import asyncio

    from typer.testing import CliRunner

    from tigase_py.cli import main
    from tigase_py.server.config import load

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main.app, ["init", "site", "--vhost", "example.com"]).exit_code == 0
    config = tmp_path / "site" / "tigase.toml"
    text = config.read_text()
    enabled = next(line for line in text.splitlines() if line.startswith("enabled = [") and "roster" in line)
    config.write_text(text.replace(enabled, 'enabled = ["ping"]'))
    monkeypatch.setenv(load.ENV_VAR, str(config))
    assert runner.invoke(main.app, ["user", "add", ALICE, "--password", PASSWORD]).exit_code == 0
    url = f"sqlite:///{tmp_path / 'site' / 'tigase.db'}"

    async def filled() -> int:
        storage = await open_storage(url)
        try:
            await fill(storage.stores, ALICE)
            return await count_owned_rows(storage, ALICE)
        finally:
            await storage.close()

    async def remaining() -> tuple[int, bool]:
        storage = await open_storage(url)
        try:
            return await count_owned_rows(storage, ALICE), await storage.users.exists("alice", "example.com")
        finally:
            await storage.close()

    assert asyncio.run(filled()) == 12
    result = runner.invoke(main.app, ["user", "delete", ALICE])
    assert result.exit_code == 0, result.output
    assert asyncio.run(remaining()) == (0, False)
