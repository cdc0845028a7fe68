"""A throwaway Debian Prosody 0.12 on loopback ports: generated config, test accounts, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tigase_py.compat_tests.peers.common import (
    PASSWORD,
    START_TIMEOUT,
    USERS,
    PeerError,
    free_port,
    loopback_target,
    self_signed,
    stop,
    wait_for_port,
)
from tigase_py.compat_tests.target import Target

DOMAIN = "localhost"
MODULES = (
    "roster", "saslauth", "tls", "disco", "ping", "version", "time", "uptime", "lastactivity", "private",
    "vcard_legacy", "vcard4", "blocklist", "register", "carbons", "mam", "smacks", "csi_simple", "offline",
    "pep", "admin_adhoc", "bosh", "websocket", "http",
)  # fmt: skip


def config_text(directory: Path, ports: dict[str, int]) -> str:
    modules = ", ".join(f'"{m}"' for m in MODULES)
    certs = directory / "certs"
    return f"""
run_as_root = true
daemonize = false
data_path = "{directory / "data"}"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{directory / "prosody.log"}" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {ports["c2s"]} }}
c2s_direct_tls_ports = {{ {ports["direct"]} }}
s2s_ports = {{ }}
component_ports = {{ {ports["component"]} }}
component_interface = "127.0.0.1"
http_ports = {{ {ports["http"]} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
certificates = "{directory / "certs"}"
c2s_require_encryption = true
allow_registration = true
min_seconds_between_registrations = 0
authentication = "internal_hashed"
storage = "internal"
admins = {{ "admin@{DOMAIN}" }}
consider_bosh_secure = true
consider_websocket_secure = true
cross_domain_bosh = true
cross_domain_websocket = true
limits = {{ c2s = {{ rate = "10mb/s" }} }}
modules_enabled = {{ {modules} }}
modules_disabled = {{ "s2s" }}

VirtualHost "{DOMAIN}"
    ssl = {{ certificate = "{certs / (DOMAIN + ".crt")}", key = "{certs / (DOMAIN + ".key")}" }}

Component "conference.{DOMAIN}" "muc"
    modules_enabled = {{ "muc_mam" }}

Component "pubsub.{DOMAIN}" "pubsub"

Component "upload.{DOMAIN}" "http_file_share"

Component "component.{DOMAIN}"
    component_secret = "{PASSWORD}"
"""


@contextlib.contextmanager
def running(users: tuple[str, ...] = USERS, timeout: float = START_TIMEOUT) -> Iterator[Target]:
    """Start Prosody, register ``users`` (and ``admin``) with one password, yield the Target, stop it."""
    prosody, prosodyctl = shutil.which("prosody"), shutil.which("prosodyctl")
    if prosody is None or prosodyctl is None:
        raise PeerError("prosody is not installed (apt-get install prosody)")
    with tempfile.TemporaryDirectory(prefix="compat-prosody-") as tmp:
        directory = Path(tmp)
        (directory / "data").mkdir()
        self_signed(DOMAIN, directory / "certs", names=(f"conference.{DOMAIN}",))
        ports = {name: free_port() for name in ("c2s", "direct", "component", "http")}
        config = directory / "prosody.cfg.lua"
        config.write_text(config_text(directory, ports))
        for user in (*users, "admin"):
            done = subprocess.run(
                [prosodyctl, "--config", str(config), "register", user, DOMAIN, PASSWORD],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if done.returncode != 0:
                raise PeerError(f"prosodyctl register {user} failed: {done.stderr.strip() or done.stdout.strip()}")
        log = directory / "prosody.log"
        with open(directory / "stdout.log", "wb") as out:
            process = subprocess.Popen(
                [prosody, "-F", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
                start_new_session=True,
                env={**os.environ, "LANG": "C.UTF-8"},
            )
        try:
            wait_for_port(ports["c2s"], process, log, timeout)
            wait_for_port(ports["http"], process, log, timeout)
            yield loopback_target("prosody", DOMAIN, users, ports, "/http-bind", "/xmpp-websocket")
        finally:
            stop(process)
