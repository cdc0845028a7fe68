"""Who may read the server's data: new data files are private (umask 077), and a check lists the
config and data files other users can read (the SQLite database holds SCRAM credentials)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from tigase_py.server.config.schema import ServerConfig

PRIVATE_UMASK = 0o077  # new files 0600, new directories 0700
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Create files in the block as 0600 and directories as 0700 (the process umask, restored after)."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private() -> None:
    """The server process: every file it creates from now on (database, WAL/SHM, logs) is private."""
    os.umask(PRIVATE_UMASK)


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite...:///path`` URL (absolute once the config is loaded)."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    database = url.split(":///", 1)[1].split("?", 1)[0]
    return Path(database) if database and database != ":memory:" else None


def private_paths(config: ServerConfig) -> list[Path]:
    """The config, its directory and the data files in it: the ones no other user should read."""
    paths = [config.directory, config.path]
    database = sqlite_file(config.storage.url)
    if database is not None:
        paths += [database, *(database.with_name(database.name + suffix) for suffix in SQLITE_SIDE_FILES)]
    if config.tls.key is not None:
        paths.append(config.tls.key)
    if config.server.log_file is not None:
        paths.append(config.server.log_file)
    return paths


def exposed(config: ServerConfig) -> list[str]:
    """One line per existing private path that other users can read (or, for a directory, enter)."""
    found = []
    for path in dict.fromkeys(private_paths(config)):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        others = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & others:
            found.append(f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}); run: chmod o-rwx {path}")
    return found
