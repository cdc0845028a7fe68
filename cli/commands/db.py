"""`tigase-py db`: create, upgrade and inspect the database schema.

Exit codes: 0 ok, 1 failure, 2 bad arguments (or a malformed URL), 3 database unreachable or login refused.
SQLAlchemy and Alembic are imported inside the commands so `tigase-py --help` stays fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

T = TypeVar("T")

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

app = typer.Typer(help="Create, upgrade and inspect the database schema.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="Database URL (sqlite:///path.db or mysql://user:pw@host:port/db); default: from the config.",
    ),
]


def say(message: str, style: str = "") -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(message, style=style))


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    line = Text("error: ", style="bold red")
    line.append(" ".join(message.split()))
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)
    raise typer.Exit(code)


def resolve_url(url: str | None) -> str:
    """`--url`, else the storage URL of the config file; one of them is required."""
    if url:
        return url
    try:
        from tigase_py.cli.context import storage_url_from_config
    except ImportError:
        fail("--url is required", EXIT_USAGE)
    try:
        configured = storage_url_from_config()
    except Exception as exc:  # the config loader's own errors: report, no traceback
        fail(f"no --url given and the config gives none: {exc}", EXIT_USAGE)
    if not configured:
        fail("no --url given and the config gives none", EXIT_USAGE)
    return str(configured)


def masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid URL>"


def run(action: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `action` and map storage failures to exit codes with a one-line message."""
    from tigase_py.server.storage.errors import InvalidStorageUrl, StorageError, StorageUnavailable

    try:
        return asyncio.run(action())
    except InvalidStorageUrl as exc:
        fail(str(exc), EXIT_USAGE)
    except StorageUnavailable as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    except StorageError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except Exception as exc:
        fail(f"unexpected {type(exc).__name__}: {exc}")


@app.command()
def init(
    url: UrlOption = None,
    admin_url: Annotated[
        str | None,
        typer.Option(
            "--admin-url", metavar="URL", help="mysql://root:pw@host:port/ to create the database and user first."
        ),
    ] = None,
    db_name: Annotated[str | None, typer.Option("--db-name", help="Database to create.")] = None,
    db_user: Annotated[str | None, typer.Option("--db-user", help="Account to create for the server.")] = None,
    db_password: Annotated[str | None, typer.Option("--db-password", help="Password of that account.")] = None,
) -> None:
    """Create the schema, or upgrade it to the newest revision (safe to run again)."""
    if admin_url is not None:
        if not (db_name and db_user and db_password):
            fail("--admin-url needs --db-name, --db-user and --db-password", EXIT_USAGE)
        url = provision(admin_url, db_name, db_user, db_password)
    migrate(url, create=True, done="initialised")


def migrate(url: str | None, create: bool, done: str) -> None:
    """Bring the schema at ``url`` (or the config's) to the newest revision and say what changed."""
    from tigase_py.server.storage.migrate import upgrade_schema

    target = resolve_url(url)
    before, after = run(lambda: upgrade_schema(target, create=create))
    if before.is_current:
        say(f"schema already at head ({after.head})", "green")
    else:
        say(f"schema {done}: {before.describe_current()} -> {after.describe_current()}", "green")


def provision(admin_url: str, db_name: str, db_user: str, db_password: str) -> str:
    from tigase_py.server.storage.provision import provision_mysql

    account = run(lambda: provision_mysql(admin_url, db_name, db_user, db_password))
    say(f"database {db_name} and user {db_user} ready; server URL: {account.render_as_string()}")
    return account.render_as_string(hide_password=False)


@app.command()
def upgrade(url: UrlOption = None) -> None:
    """Upgrade an existing database to the newest schema revision."""
    migrate(url, create=False, done="upgraded")


@app.command()
def status(
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Show the current and the newest schema revision, and whether an upgrade is due."""
    from tigase_py.server.storage.migrate import branches, inspect_schema

    target = resolve_url(url)
    schema = run(lambda: inspect_schema(target))
    if as_json:
        document = {
            "url": masked(target),
            "current": schema.current,
            "head": schema.head,
            "branches": list(branches()),
            "upgrade_needed": not schema.is_current,
        }
        typer.echo(json.dumps(document))
        return
    typer.echo(f"database:  {masked(target)}")
    typer.echo(f"current:   {schema.describe_current()}")
    typer.echo(f"head:      {schema.head}")
    typer.echo(f"branches:  {', '.join(branches())}")
    typer.echo(f"upgrade:   {'needed, run `tigase-py db upgrade`' if not schema.is_current else 'not needed'}")
