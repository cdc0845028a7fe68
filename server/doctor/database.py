"""The database check: it answers within a few seconds, and its schema is at the newest revision."""

from __future__ import annotations

from tigase_py.server.doctor.model import Finding, ok, problem, warning

NAME = "database"
TIMEOUT = 5.0


async def database(url: str, creates_sqlite: bool = True) -> list[Finding]:
    from sqlalchemy.engine import make_url

    from tigase_py.server.storage import migrate
    from tigase_py.server.storage.database import Database, Timeouts, sqlite_path
    from tigase_py.server.storage.errors import StorageError

    try:
        subject = make_url(url).render_as_string(hide_password=True)
        db = Database(url, Timeouts(operation=TIMEOUT, connect=TIMEOUT, ping=TIMEOUT))
    except (StorageError, ValueError) as exc:
        return [problem(NAME, "[storage] url", str(exc))]
    try:
        path = sqlite_path(db.url)
        if path is not None and not path.exists():
            note = "the server creates it at its first start" if creates_sqlite else "run `tigase-py db init`"
            return [warning(NAME, subject, f"{path} does not exist yet; {note}")]
        try:
            schema = await migrate.status(db)  # connects, within the operation timeout
        except StorageError as exc:
            return [problem(NAME, subject, str(exc))]
    finally:
        await db.close()
    if schema.is_current:
        return [ok(NAME, subject, f"reachable; schema at head ({schema.head})")]
    return [
        problem(
            NAME, subject,
            f"schema at {schema.describe_current()}, head is {schema.head}: run `tigase-py db upgrade`",
        )
    ]  # fmt: skip
