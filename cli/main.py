"""The root ``tigase-py`` command: global options, sub-apps, and error → exit code mapping.

Only light modules are imported here so ``tigase-py --help`` answers fast; commands import
storage, cryptography and the server inside their bodies.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tigase_py.cli import console, context, errors, help_format
from tigase_py.cli.commands import (
    admin,
    auth,
    compat,
    config,
    doctor,
    init,
    install,
    load,
    modules,
    server,
    session,
    stats,
    status,
    user,
    vhost,
)

_STORAGE_ENGINE = "tigase_py.server.storage.engine"
_STORAGE_ERRORS = "tigase_py.server.storage.errors"
_UNREACHABLE_WORDS = ("connect", "refused", "unreachable", "timed out")


def handle_error(exc: BaseException) -> int:
    """The one place where exceptions become a message on stderr and an exit code."""
    if isinstance(exc, KeyboardInterrupt):
        console.error("interrupted")
        return 130
    if isinstance(exc, typer.Abort):
        console.error("aborted")
        return 130 if isinstance(exc.__context__, KeyboardInterrupt) else 1
    if isinstance(exc, errors.CliError):
        console.error(str(exc), hint=exc.hint)
        return exc.exit_code
    from tigase_py.server.config.errors import ConfigError

    if isinstance(exc, ConfigError):
        console.error(str(exc))
        return 2
    # The storage engine is only loaded by commands that use it; if it is not loaded, this is not its error.
    engine = sys.modules.get(_STORAGE_ENGINE)
    storage_error = getattr(engine, "StorageError", None)
    if isinstance(storage_error, type) and isinstance(exc, storage_error):
        message = str(exc) or type(exc).__name__
        console.error(f"storage: {message}")
        unavailable = getattr(sys.modules.get(_STORAGE_ERRORS), "StorageUnavailable", None)
        if isinstance(unavailable, type) and isinstance(exc, unavailable):
            return 3
        return 3 if any(word in message.lower() for word in _UNREACHABLE_WORDS) else 1
    verbose = context.verbosity()
    console.error(f"internal error: {type(exc).__name__}: {exc}", hint=None if verbose else "run with -v for details")
    if verbose:
        console.traceback(exc)
    return 1


def _framework_errors() -> tuple[type[BaseException], ...]:
    """What typer reports itself: ``Exit`` and click's ``ClickException`` (vendored since typer 0.26)."""
    usage_chain = typer.BadParameter.__mro__  # BadParameter → UsageError → ClickException → ...
    return (typer.Exit, *(cls for cls in usage_chain if cls.__name__ == "ClickException"))


_FRAMEWORK_ERRORS = _framework_errors()
help_format.hide_flag_types()


class RootGroup(TyperGroup):
    """Maps exceptions raised by any subcommand (also under ``CliRunner``) via :func:`handle_error`."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, vendored by newer typer versions
        try:
            return super().invoke(ctx)
        except _FRAMEWORK_ERRORS:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(handle_error(exc)) from None


app = typer.Typer(
    cls=RootGroup,
    name="tigase-py",
    help="Run and administer the tigase-py XMPP server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        from tigase_py.server import __version__

        console.result(f"tigase-py {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $TIGASE_PY_CONFIG, ./tigase.toml, /etc/tigase-py/tigase.toml).",
            dir_okay=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",
            show_default=False,
            help="More detail on errors: a flag, repeat it for more (-v, -vv); it takes no value.",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Run and administer the tigase-py XMPP server."""
    del version
    context.configure(config_file, verbose)


app.command("init")(init.init)
app.add_typer(config.app, name="config")
app.add_typer(server.app, name="server")
app.add_typer(user.app, name="user")
app.add_typer(auth.app, name="auth")
app.add_typer(vhost.app, name="vhost")
app.add_typer(session.app, name="session")
app.add_typer(admin.app, name="admin")
app.add_typer(compat.app, name="compat")
app.add_typer(load.app, name="load")
app.add_typer(modules.app, name="modules")
app.command("status")(status.status)
app.command("stats")(stats.stats)
app.command("doctor")(doctor.doctor)
app.command("install")(install.install)
app.command("uninstall")(install.uninstall)


def _register_db() -> None:
    """``tigase-py db`` lives in its own file; the CLI works without it."""
    name = "tigase_py.cli.commands.db"
    try:
        db = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return
    app.add_typer(db.app, name="db")


_register_db()


def run() -> None:
    """Console-script entry point (``tigase-py``)."""
    try:
        app(prog_name="tigase-py")
    except KeyboardInterrupt:
        sys.exit(handle_error(KeyboardInterrupt()))
    except Exception as exc:  # raised outside a subcommand, e.g. in an option callback
        sys.exit(handle_error(exc))
