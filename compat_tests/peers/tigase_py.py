"""A throwaway instance of our own server, started as a subprocess (no server code is imported)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tigase_py.compat_tests.peers.common import (
    PASSWORD,
    START_TIMEOUT,
    USERS,
    PeerError,
    free_port,
    self_signed,
    stop,
    wait_for_port,
)
from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config
from tigase_py.compat_tests.target import Account, Target

DOMAIN = "localhost"
# The default modules (as `tigase-py init` writes them) plus the ones the suite also judges.
MODULES = (
    "roster",
    "presence",
    "offline",
    "disco",
    "ping",
    "version",
    "time",
    "last",
    "private",
    "vcard",
    "blocking",
    "register",
    "adhoc",
    "pubsub",
)
CLI = "from tigase_py.cli.main import run; run()"


def config_text(directory: Path, port: int, http_port: int, registration: bool = False) -> str:
    certs = directory / "certs"
    vhost = f'[vhosts."{DOMAIN}"]\nregistration = true\n' if registration else ""
    modules = "[modules]\nenabled = [" + ", ".join(f'"{name}"' for name in MODULES) + "]\n"
    return render_config(
        vhosts=[DOMAIN],
        pidfile=directory / "tigase.pid",
        log_level="info",
        storage_url=f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
        certificate=certs / (DOMAIN + ".crt"),
        key=certs / (DOMAIN + ".key"),
        listeners=[Listener(port, "starttls")],
        http_port=http_port,
        http={"address": "127.0.0.1"},
        extra=modules + vhost,
    )


def cli(config: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", CLI, "--config", str(config), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise PeerError(f"tigase-py {' '.join(args[:2])} failed: {(done.stderr or done.stdout).strip()}")


@contextlib.contextmanager
def running(
    users: tuple[str, ...] = USERS, timeout: float = START_TIMEOUT, registration: bool = False
) -> Iterator[Target]:
    """Start ``python -m tigase_py.server`` on a free port with ``users``; yield the Target; stop it.

    ``registration`` opens in-band registration (XEP-0077) on the vhost, for load runs' accounts."""
    with tempfile.TemporaryDirectory(prefix="compat-tigase-py-") as tmp:
        directory = Path(tmp)
        self_signed(DOMAIN, directory / "certs")
        port = free_port()
        config = directory / "tigase.toml"
        config.write_text(config_text(directory, port, free_port(), registration))
        for user in (*users, "admin"):
            cli(config, "user", "add", f"{user}@{DOMAIN}", "--password", PASSWORD)
        log = directory / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
                start_new_session=True,
            )
        try:
            wait_for_port(port, process, log, timeout)
            yield Target(
                host="127.0.0.1",
                port=port,
                domain=DOMAIN,
                tls="starttls",
                accounts=[Account(f"{u}@{DOMAIN}", PASSWORD) for u in users],
                register=registration,
                admin=Account(f"admin@{DOMAIN}", PASSWORD),
                name="tigase-py",
                deviations="tigase-py",
            )
        finally:
            stop(process)
