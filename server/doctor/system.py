"""Checks of the host: the open-files limit, the clock, and who may read the config and the data."""

from __future__ import annotations

import ctypes
import datetime
import resource
import shutil
import stat
import subprocess
from pathlib import Path

from tigase_py.server.doctor.model import Finding, ok, problem, warning

FD_HEADROOM = 64  # listeners, the database, logs, the HTTP and SNMP sockets
OLDEST_SANE_YEAR = 2025  # a clock before this is certainly wrong (the code did not exist yet)
TIME_ERROR = 5  # adjtimex(2): the kernel clock is not synchronised
TIMEX_BYTES = 512  # struct timex is 208 bytes on x86-64; a zeroed buffer with modes = 0 only reads


def process_limit(pid: int | None) -> tuple[int | None, str]:
    """The soft RLIMIT_NOFILE of the running server, else the hard limit of this process, which a
    starting server raises its soft limit to (see `app.raise_open_files_limit`)."""
    if pid is not None:
        try:
            for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
                if line.startswith("Max open files"):
                    value = line.split()[3]
                    return (None if value == "unlimited" else int(value)), f"server (pid {pid})"
        except (OSError, ValueError, IndexError):
            pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return None, "this shell's hard limit"
    return hard, "this shell's hard limit (a starting server raises its soft limit to it)"


def open_files(limit: int | None, max_connections: int, source: str) -> list[Finding]:
    """Each client connection holds one descriptor; twice max_connections leaves room to grow."""
    name = "open-files"
    minimum = max_connections + FD_HEADROOM
    comfortable = 2 * max_connections + FD_HEADROOM
    if limit is None:
        return [ok(name, source, f"unlimited (max_connections = {max_connections})")]
    if limit < minimum:
        return [
            problem(
                name, source,
                f"limit {limit} < {minimum} needed for max_connections = {max_connections}; "
                "raise LimitNOFILE (systemd) or `ulimit -n`",
            )
        ]  # fmt: skip
    if limit < comfortable:
        return [warning(name, source, f"limit {limit} < {comfortable} (2 x max_connections + {FD_HEADROOM})")]
    return [ok(name, source, f"limit {limit} >= {comfortable} (2 x max_connections + {FD_HEADROOM})")]


def ntp_synchronised() -> tuple[bool | None, str]:
    """Whether the system clock is NTP-synchronised, and how that was learnt (None: unknown)."""
    timedatectl = shutil.which("timedatectl")
    if timedatectl is not None:
        try:
            done = subprocess.run(
                [timedatectl, "show", "--property=NTPSynchronized", "--value"],
                capture_output=True, text=True, timeout=3, check=False,
            )  # fmt: skip
            if done.returncode == 0 and done.stdout.strip() in ("yes", "no"):
                return done.stdout.strip() == "yes", "timedatectl"
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buffer = ctypes.create_string_buffer(TIMEX_BYTES)  # modes = 0: read the state, change nothing
        state = libc.adjtimex(buffer)
    except (OSError, AttributeError):
        return None, "no timedatectl or adjtimex"
    if state < 0:
        return None, "adjtimex failed"
    return state != TIME_ERROR, "adjtimex"


def clock(now: datetime.datetime, synchronised: bool | None, source: str) -> list[Finding]:
    name = "clock"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    if now.year < OLDEST_SANE_YEAR:
        return [problem(name, "system clock", f"{stamp} is in the past: certificates and delay stamps break")]
    if synchronised is None:
        return [warning(name, "system clock", f"{stamp}; synchronisation unknown ({source})")]
    if not synchronised:
        return [warning(name, "system clock", f"{stamp}; not synchronised by NTP ({source})")]
    return [ok(name, "system clock", f"{stamp}; synchronised ({source})")]


def permissions(secrets: list[Path], data: list[Path]) -> list[Finding]:
    """Secrets (config, TLS key) and data (the SQLite files) must not be readable by other users;
    nothing may be writable by them."""
    name = "permissions"
    found: list[Finding] = []
    for path, secret in [*((p, True) for p in secrets), *((p, False) for p in data)]:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            found.append(problem(name, str(path), f"cannot stat: {exc.strerror}"))
            continue
        octal = f"{stat.S_IMODE(mode):04o}"
        what = "directory" if stat.S_ISDIR(mode) else ("secret" if secret else "data")
        if mode & stat.S_IWOTH and not (stat.S_ISDIR(mode) and mode & stat.S_ISVTX):
            found.append(problem(name, str(path), f"mode {octal}: any user may write this {what}"))
        elif stat.S_ISDIR(mode) and mode & stat.S_IROTH:
            found.append(warning(name, str(path), f"mode {octal}: any user may list this directory"))
        elif not stat.S_ISDIR(mode) and mode & stat.S_IROTH:
            fix = f"chmod o-r {path}"
            found.append(problem(name, str(path), f"mode {octal}: any user may read this {what} ({fix})"))
        elif secret and mode & stat.S_IRGRP:
            found.append(warning(name, str(path), f"mode {octal}: the group may read this {what}"))
        else:
            found.append(ok(name, str(path), f"mode {octal}"))
    return found


def sqlite_files(database: Path) -> list[Path]:
    """The database file, its WAL and shared-memory files, and its directory."""
    return [database.parent, database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
