"""Bring the schema to head (or check it is there) in a short-lived child process, so the serving process
never imports Alembic (with Mako and Pygments, about 9 MB that would stay resident for nothing).

    await prepare_in_child(url, create=True, timeouts=timeouts)   # raises StorageError / StorageUnavailable
    storage = await open_storage(url, schema_ready=True, ...)

The URL (it may hold a password) goes to the child on its standard input, not on its command line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import typing
from collections.abc import Iterable
from typing import Any

from tigase_py.server.storage.database import Database, Timeouts
from tigase_py.server.storage.errors import StorageError, StorageUnavailable

if typing.TYPE_CHECKING:
    from tigase_py.server.storage.spec import StoreSpec

CHILD_TIMEOUT = 300.0  # a long migration on a big MariaDB database is still bounded
UNAVAILABLE = 3


async def prepare(db: Database, *, create: bool, specs: Iterable[StoreSpec[Any]] | None = None) -> None:
    """With ``create``, migrate to head first; then require the schema at head (every store of
    ``specs``, by default those in ``tigase_py.server.stores``)."""
    from tigase_py.server.storage import migrate
    from tigase_py.server.storage.registry import discover

    chosen = tuple(discover() if specs is None else specs)
    migrate.require_file(db, create=create)
    if create:
        await migrate.upgrade(db, specs=chosen)
    schema = await migrate.status(db, specs=chosen)
    if not schema.is_current:
        raise StorageError(f"database schema is at {schema.describe_current()}, run `tigase-py db upgrade`")


async def prepare_in_child(url: str, *, create: bool, timeouts: Timeouts = Timeouts()) -> None:
    """:func:`prepare` in ``python -m tigase_py.server.storage.schema_process``; its error becomes ours."""
    request = {"url": url, "create": create, "timeouts": dataclasses.asdict(timeouts)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", __name__,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, errors = await asyncio.wait_for(child.communicate(json.dumps(request).encode()), CHILD_TIMEOUT)
    except (TimeoutError, asyncio.CancelledError):
        child.kill()
        await child.wait()
        raise
    if child.returncode == 0:
        return
    lines = errors.decode("utf-8", "replace").strip().splitlines()
    message = lines[-1] if lines else f"schema check exited with {child.returncode}"
    raise (StorageUnavailable if child.returncode == UNAVAILABLE else StorageError)(message)


async def _main(request: dict[str, object]) -> None:
    timeouts = Timeouts(**typing.cast(dict[str, float], request["timeouts"]))
    db = Database(str(request["url"]), timeouts)
    try:
        await prepare(db, create=bool(request["create"]))
    finally:
        await db.close()


def main() -> int:
    try:
        asyncio.run(_main(json.loads(sys.stdin.read())))
    except StorageUnavailable as exc:
        print(str(exc) or type(exc).__name__, file=sys.stderr)
        return UNAVAILABLE
    except StorageError as exc:
        print(str(exc) or type(exc).__name__, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
