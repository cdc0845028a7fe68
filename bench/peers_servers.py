"""Throwaway servers for ``bench/peers.py``: our server and Debian's Prosody, set up the way production runs them.

Both: one STARTTLS c2s listener on 127.0.0.1 with TLS required, SCRAM-SHA-1 offered, credentials stored
hashed (SCRAM keys, random salt per account, 4,096 iterations), no c2s rate limits, logs at warning.

* tigase-py: ``python -m tigase_py.server`` with a generated ``tigase.toml`` (modules as shipped, SQLite).
* Prosody 0.12: ``authentication = "internal_hashed"``, mod_limits not loaded (no c2s throttle), the
  module set of Debian's default config.

Accounts are made once per size in a template directory (our SQLite file through the storage API;
Prosody's ``accounts/<user>.dat`` files written directly, in the format ``prosodyctl register``
writes) and copied into each fresh instance, so every measurement starts a new process quickly.

All accounts share one salt (per server). The server's SCRAM work per login does not depend on the
salt, and a real client computes its salted password once and keeps it; with one salt the load
generator's cache does the same, so the login rate is the servers', not the generator's PBKDF2.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tigase_py.compat_tests.peers.common import PeerError, free_port, self_signed, stop, wait_for_port
from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config

DOMAIN = "localhost"
PASSWORD = "peers-secret"
PATTERN = "load{n}"
ITERATIONS = 4096
PROSODY_MODULES = (
    "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist", "vcard4", "vcard_legacy",
    "version", "uptime", "time", "ping", "register", "admin_adhoc", "offline",
)  # fmt: skip


@dataclass(frozen=True)
class Running:
    name: str
    port: int
    pid: int
    directory: Path


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- tigase-py --------------------------------------------------------------------------------------
def ours_config(directory: Path, port: int) -> str:
    certs = directory / "certs"
    return render_config(
        vhosts=[DOMAIN],
        pidfile=directory / "tigase.pid",
        storage_url=f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
        certificate=certs / (DOMAIN + ".crt"),
        key=certs / (DOMAIN + ".key"),
        listeners=[Listener(port, "starttls", require_tls=True)],
        limits={"max_connections": 19000},
        auth={"scram_iterations": ITERATIONS},
        http_port=free_port(),
    )


async def _create_ours(db: Path, count: int) -> None:
    from tigase_py.server.storage import users
    from tigase_py.server.storage.engine import open_storage

    users.make_credentials = functools.cache(users.make_credentials)  # one salt for all: see the module doc
    storage = await open_storage(f"sqlite+aiosqlite:///{db}", create=True)
    try:
        for i in range(0, count, 64):
            batch = range(i, min(count, i + 64))
            await asyncio.gather(*(storage.users.create(PATTERN.format(n=n), DOMAIN, PASSWORD) for n in batch))
    finally:
        await storage.close()


# -- Prosody ----------------------------------------------------------------------------------------
def prosody_config(directory: Path, port: int) -> str:
    modules = ", ".join(f'"{m}"' for m in PROSODY_MODULES)
    certs = directory / "certs"
    return f"""
run_as_root = true
daemonize = false
pidfile = "{directory / "prosody.pid"}"
data_path = "{directory / "data"}"
log = {{ {{ levels = {{ min = "warn" }}, to = "file", filename = "{directory / "prosody.log"}" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
certificates = "{certs}"
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
modules_enabled = {{ {modules} }}
modules_disabled = {{ "s2s" }}

VirtualHost "{DOMAIN}"
    ssl = {{ certificate = "{certs / (DOMAIN + ".crt")}", key = "{certs / (DOMAIN + ".key")}" }}
"""


@functools.cache
def prosody_account(password: str) -> str:
    """One ``accounts/<user>.dat`` of mod_auth_internal_hashed: SCRAM-SHA-1 keys in hex, a UUID salt
    (the same for every account with this password: see the module doc)."""
    salt = str(uuid.uuid4())
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), ITERATIONS)
    stored = hashlib.sha1(hmac.new(salted, b"Client Key", "sha1").digest()).hexdigest()
    server = hmac.new(salted, b"Server Key", "sha1").hexdigest()
    return (
        f'return {{\n\t["stored_key"] = "{stored}";\n\t["iteration_count"] = {ITERATIONS};\n'
        f'\t["server_key"] = "{server}";\n\t["salt"] = "{salt}";\n}};\n'
    )


def _create_prosody(data: Path, count: int) -> None:
    accounts = data / DOMAIN / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (accounts / f"{PATTERN.format(n=n)}.dat").write_text(prosody_account(PASSWORD))


# -- templates and fresh instances -----------------------------------------------------------------
class Templates:
    """Accounts made once per server kind, copied into every fresh instance."""

    def __init__(self, root: Path, count: int) -> None:
        self.root = root
        self.count = count
        self.made: set[str] = set()

    def ours(self) -> Path:
        db = self.root / "tigase.db"
        if "ours" not in self.made:
            asyncio.run(_create_ours(db, self.count))
            self.made.add("ours")
        return db

    def prosody(self) -> Path:
        data = self.root / "prosody-data"
        if "prosody" not in self.made:
            _create_prosody(data, self.count)
            self.made.add("prosody")
        return data


@contextlib.contextmanager
def running(name: str, templates: Templates, accounts: int, timeout: float = 30.0) -> Iterator[Running]:
    """A fresh ``name`` ("tigase-py", "prosody" or "ejabberd") with at least ``accounts`` accounts; stopped on exit."""
    if name == "ejabberd":
        from bench import peers_ejabberd

        names = [PATTERN.format(n=n) for n in range(accounts)]
        with peers_ejabberd.running(names, PASSWORD) as (port, pid):
            yield Running(name, port, pid, Path(tempfile.gettempdir()))
        return
    with tempfile.TemporaryDirectory(prefix=f"peers-{name}-") as tmp:
        directory = Path(tmp)
        self_signed(DOMAIN, directory / "certs")
        port = free_port()
        if name == "tigase-py":
            shutil.copy(templates.ours(), directory / "tigase.db")
            config = directory / "tigase.toml"
            config.write_text(ours_config(directory, port))
            command = [sys.executable, "-m", "tigase_py.server", "--config", str(config)]
        elif name == "prosody":
            binary = shutil.which("prosody")
            if binary is None:
                raise PeerError("prosody is not installed (apt-get install prosody)")
            shutil.copytree(templates.prosody(), directory / "data")
            config = directory / "prosody.cfg.lua"
            config.write_text(prosody_config(directory, port))
            command = [binary, "-F", "--config", str(config)]
        else:
            raise PeerError(f"unknown server {name!r}")
        log = directory / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True,
                preexec_fn=raise_nofile, env={**os.environ, "LANG": "C.UTF-8"},
            )  # fmt: skip
        try:
            wait_for_port(port, process, log, timeout)
            yield Running(name, port, process.pid, directory)
        finally:
            stop(process)
