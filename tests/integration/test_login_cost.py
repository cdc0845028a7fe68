"""What one STARTTLS + SCRAM-SHA-1 login costs the server: no PBKDF2, and one database read up to bind.

The server stores SCRAM keys (salt, StoredKey, ServerKey, iterations), so a SCRAM login must never
derive a salted password (PBKDF2 is the client's job, RFC 5802 section 3). The credentials are read in
one query; nothing else touches the database before the resource is bound.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bench.client import insecure_context, login
from tests.xmpp_harness import running_server

# Statements the server runs on its own timers (the storage health probe, the per-vhost user gauge).
BACKGROUND_STATEMENTS = ("SELECT 1", "SELECT count(*)")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
async def test_scram_login_runs_no_pbkdf2_and_one_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mechanism: str
) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("carol@localhost", "secret")
        port, context = handle.starttls_port, insecure_context()
        # The first login fills the client's salted-password cache (its PBKDF2 runs in this process too).
        first = await login("127.0.0.1", port, "localhost", "carol", "secret", "a", context, mechanism)
        await first.close()
        # Its logout (last-activity write) must be over before counting.
        for _ in range(500):
            if handle.server.sessions.count == 0 and not handle.server.tasks:
                break
            await asyncio.sleep(0.01)
        assert handle.server.sessions.count == 0 and not handle.server.tasks

        derivations: list[int] = []
        real_pbkdf2 = hashlib.pbkdf2_hmac

        def counting_pbkdf2(*args: Any, **kwargs: Any) -> bytes:
            derivations.append(1)
            return real_pbkdf2(*args, **kwargs)

        monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting_pbkdf2)
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.strip().startswith(BACKGROUND_STATEMENTS):
                return
            statements.append(statement.split(None, 1)[0].upper())

        db = handle.server.storage.db
        engine = db.sql_engine
        event.listen(engine, "before_cursor_execute", record)
        if db.reader is not None:  # the hot reads on SQLite bypass the engine's events
            db.reader.trace = lambda statement: record(None, None, statement)
        try:
            client = await login("127.0.0.1", port, "localhost", "carol", "secret", "b", context, mechanism)
        finally:
            event.remove(engine, "before_cursor_execute", record)
            if db.reader is not None:
                db.reader.trace = None
        assert client.jid == "carol@localhost/b"
        await client.close()
    assert derivations == []
    assert statements.count("SELECT") == 1, statements
    assert set(statements) <= {"SELECT", "BEGIN"}, statements
