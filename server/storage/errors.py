"""Storage failures as one-line exceptions, translated from SQLAlchemy and driver errors.

Every public store method raises `StorageError` (or its subclass `StorageUnavailable` when the
database cannot be reached or refuses the login) instead of a raw SQLAlchemy or driver exception.
Account-level outcomes that callers branch on are separate: `UserExists`, `UserNotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass

# MySQL/MariaDB client and server error codes that mean "cannot use this database at all".
UNAVAILABLE_MYSQL_CODES = frozenset(
    {
        1044,  # access denied for user to database
        1045,  # access denied for user (wrong password)
        1049,  # unknown database
        1130,  # host is not allowed to connect
        2002,  # can't connect through socket
        2003,  # can't connect to server
        2005,  # unknown host
        2006,  # server has gone away
        2013,  # lost connection during query
    }
)
SQLITE_UNAVAILABLE_MARKERS = ("unable to open database file", "disk i/o error", "readonly database")


class StorageError(Exception):
    """A database failure, with a one-line message fit for a log line or a CLI error."""


class StorageUnavailable(StorageError):
    """The database is unreachable, refuses the login, or does not exist."""


class InvalidStorageUrl(StorageError):
    """The database URL cannot be parsed or names an unsupported backend."""


class UserExists(Exception):
    """`users.create` for an account that is already registered."""


class UserNotFound(Exception):
    """An operation on an account that is not registered."""


@dataclass(frozen=True)
class Target:
    """What a URL points at, for messages: never carries the password."""

    backend: str
    location: str

    def __str__(self) -> str:
        return f"{self.backend} at {self.location}"


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def driver_reason(exc: BaseException) -> tuple[int | None, str]:
    """The driver's error code (if any) and its message, unwrapped from SQLAlchemy."""
    orig = getattr(exc, "orig", None) or exc
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0], first_line(str(args[1]))
    if isinstance(orig, OSError) and orig.strerror:
        return orig.errno, first_line(orig.strerror)
    return None, first_line(str(orig) or type(orig).__name__)


def is_unavailable(target: Target, exc: BaseException) -> bool:
    code, reason = driver_reason(exc)
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, OSError):
        return True
    if target.backend == "mysql":
        return code in UNAVAILABLE_MYSQL_CODES
    return any(marker in reason.lower() for marker in SQLITE_UNAVAILABLE_MARKERS)


def translate(target: Target, exc: BaseException) -> StorageError:
    """Map any database exception to a one-line `StorageError`."""
    if isinstance(exc, StorageError):
        return exc
    _, reason = driver_reason(exc)
    if is_unavailable(target, exc):
        return StorageUnavailable(f"cannot connect to {target}: {reason}")
    return StorageError(f"database error ({target}): {reason}")
