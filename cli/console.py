"""The only output door of the CLI.

Messages (``error``/``warning``/``success``/``info``) go to stderr; results (``emit_json``,
``table``, ``result``) go to stdout, so ``tigase-py ... --json | jq`` always sees one document.
Consoles are built per call so they follow whatever ``sys.stdout``/``sys.stderr`` are now.
"""

from __future__ import annotations

import json
import sys
import traceback as tb
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _say(prefix: str, style: str, message: str) -> None:
    line = Text()
    line.append(prefix, style=style)
    line.append(message)
    _stderr().print(line)


def error(message: str, hint: str | None = None) -> None:
    _say("error: ", "bold red", message)
    if hint:
        _say("hint: ", "yellow", hint)


def warning(message: str) -> None:
    _say("warning: ", "yellow", message)


def success(message: str) -> None:
    _say("", "green", message)


def info(message: str) -> None:
    _say("", "", message)


def traceback(exc: BaseException) -> None:
    sys.stderr.write("".join(tb.format_exception(exc)))


def result(message: str) -> None:
    """A plain result line on stdout (no markup interpretation)."""
    _stdout().print(Text(message))


def emit_json(obj: object) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None) -> None:
    view = Table(title=title, show_header=True, header_style="bold")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    _stdout().print(view)
