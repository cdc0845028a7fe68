"""A database that accepts connections but never answers: every storage call fails within its
timeout instead of hanging, and the health ping says down within the ping timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import load_config
from tigase_py.server.storage.database import Database, Timeouts
from tigase_py.server.storage.errors import StorageUnavailable

LISTENER = '[[listeners]]\ntls = "none"\nrequire_tls = false\n'


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP port that accepts connections and then says nothing (a frozen mariadbd looks the same)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_operation_on_a_silent_database_fails_within_the_timeout(silent_port: int) -> None:
    db = Database(f"mysql://u:p@127.0.0.1:{silent_port}/tigase", Timeouts(operation=0.5, connect=0.5, ping=0.3))
    try:
        start = time.monotonic()
        with pytest.raises(StorageUnavailable, match="did not answer within 0.5s"):
            async with db.connection():
                pass
        assert time.monotonic() - start < 1.5
        start = time.monotonic()
        assert await db.ping() is False
        assert time.monotonic() - start < 1.0
    finally:
        await db.close()


def test_storage_timeouts_default_and_parse(tmp_path: Path) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(LISTENER)
    default = load_config(path).storage
    assert (default.timeout, default.connect_timeout) == (5.0, 3.0)
    path.write_text(LISTENER + '[storage]\ntimeout = "1500ms"\nconnect_timeout = "2s"\n')
    configured = load_config(path).storage
    assert (configured.timeout, configured.connect_timeout) == (1.5, 2.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeout = 0", "storage.timeout: must be a positive duration"),
        ('connect_timeout = "soon"', "storage.connect_timeout: expected a duration"),
    ],
)
def test_storage_timeouts_reject_bad_values(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(f"{LISTENER}[storage]\n{text}\n")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)
