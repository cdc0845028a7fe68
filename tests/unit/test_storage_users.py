"""Accounts and SCRAM credentials, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
import scramp
import sqlalchemy as sa

from tigase_py.server.storage import users as users_module
from tigase_py.server.storage.engine import Storage
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.storage.metadata import metadata

PASSWORD = "Pl4in-Sécret-pässword"


async def test_create_exists_list_count(storage: Storage) -> None:
    assert not await storage.users.exists("alice", "example.com")
    await storage.users.create("alice", "example.com", PASSWORD)
    await storage.users.create("bob", "example.com", "pw-bob")
    await storage.users.create("alice", "example.org", "pw-2")
    assert await storage.users.exists("alice", "example.com")
    assert not await storage.users.exists("alice", "example.net")
    assert await storage.users.list() == ["alice@example.com", "alice@example.org", "bob@example.com"]
    assert await storage.users.list("example.com") == ["alice@example.com", "bob@example.com"]
    assert await storage.users.count() == 3
    assert await storage.users.count("example.org") == 1
    assert await storage.users.count("nowhere") == 0


async def test_create_twice_raises_user_exists(storage: Storage) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    with pytest.raises(UserExists):
        await storage.users.create("alice", "example.com", "other")
    assert await storage.users.verify_password("alice", "example.com", PASSWORD)


async def test_accented_names_are_distinct_accounts(storage: Storage) -> None:
    await storage.users.create("rené", "example.com", "a")
    await storage.users.create("rene", "example.com", "b")
    assert await storage.users.list() == ["rene@example.com", "rené@example.com"]


async def test_verify_and_set_password(storage: Storage) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    assert await storage.users.verify_password("alice", "example.com", PASSWORD)
    assert not await storage.users.verify_password("alice", "example.com", "wrong")
    assert not await storage.users.verify_password("nobody", "example.com", PASSWORD)
    await storage.users.set_password("alice", "example.com", "new-password")
    assert await storage.users.verify_password("alice", "example.com", "new-password")
    assert not await storage.users.verify_password("alice", "example.com", PASSWORD)
    with pytest.raises(UserNotFound):
        await storage.users.set_password("nobody", "example.com", "x")


async def test_password_never_stored_in_plaintext(storage: Storage) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    await storage.users.set_password("alice", "example.com", PASSWORD + "2")
    needles = [PASSWORD, PASSWORD + "2"]
    scanned = 0
    async with storage.db.connection() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(sa.select(table)):
                for value in row:
                    scanned += 1
                    if isinstance(value, str):
                        assert all(n not in value for n in needles), table.name
                    elif isinstance(value, bytes | bytearray | memoryview):
                        blob = bytes(value)
                        assert all(n.encode() not in blob for n in needles), table.name
    assert scanned > 0


@pytest.mark.parametrize("hash_name", ["SHA-1", "SHA-256"])
async def test_scram_exchange_with_stored_credentials(storage: Storage, hash_name: str) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    creds = await storage.users.get_scram("alice", "example.com", hash_name)
    assert creds is not None
    assert creds.iterations == users_module.SCRAM_ITERATIONS
    mechanism_name = f"SCRAM-{hash_name}"

    def exchange(password: str) -> None:
        def auth_fn(username: str) -> tuple[bytes, bytes, bytes, int]:
            assert username == "alice"
            return creds.salt, creds.stored_key, creds.server_key, creds.iterations

        server = scramp.ScramMechanism(mechanism_name).make_server(auth_fn)
        client = scramp.ScramClient([mechanism_name], "alice", password)
        server.set_client_first(client.get_client_first())
        client.set_server_first(server.get_server_first())
        server.set_client_final(client.get_client_final())
        client.set_server_final(server.get_server_final())

    exchange(PASSWORD)
    with pytest.raises(scramp.ScramException):
        exchange("wrong password")


async def test_get_scram_unknown(storage: Storage) -> None:
    await storage.users.create("alice", "example.com", PASSWORD)
    assert await storage.users.get_scram("bob", "example.com", "SHA-256") is None
    assert await storage.users.get_scram("alice", "example.com", "SHA-512") is None


async def test_iterations_are_configurable(storage: Storage) -> None:
    storage.users.iterations = 5000
    await storage.users.create("alice", "example.com", PASSWORD)
    creds = await storage.users.get_scram("alice", "example.com", "SHA-256")
    assert creds is not None and creds.iterations == 5000
    assert await storage.users.verify_password("alice", "example.com", PASSWORD)
