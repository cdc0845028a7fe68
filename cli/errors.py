"""CLI errors: each carries its exit code; ``cli/main.py`` turns them into one line on stderr.

Exit codes: 0 ok, 1 failure, 2 usage (bad arguments or config), 3 unreachable (server or database).
"""

from __future__ import annotations


class CliError(Exception):
    """A failure the user can act on; printed without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(CliError):
    """Bad arguments or input."""

    exit_code = 2


class Unreachable(CliError):
    """The server or the database cannot be reached (or is not running)."""

    exit_code = 3
