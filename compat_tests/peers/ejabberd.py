"""A throwaway Debian ejabberd 23.01 on loopback ports: generated config, own Erlang node, stopped cleanly.

``ejabberdctl`` runs the node as the ``ejabberd`` user (``su``), so it needs root (or that user) and a
temp dir the user owns. The node gets its own name, cookie and fixed distribution port on 127.0.0.1
(no epmd), so it never meets the packaged service. Accounts come from ``ejabberdctl register``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import secrets
import signal
import subprocess
import tempfile
import time
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
    tail,
    wait_for_port,
)
from tigase_py.compat_tests.target import Account, Target

DOMAIN = "localhost"
USER = "ejabberd"
EJABBERDCTL = "/usr/sbin/ejabberdctl"
ERL = "/usr/bin/erl"
CTL_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
UPLOAD_MAX = 1024 * 1024


def config_text(directory: Path, ports: dict[str, int]) -> str:
    """ejabberd.yml: one host, STARTTLS c2s, BOSH/WebSocket/upload over loopback HTTP, a component."""
    return f"""
hosts:
  - {DOMAIN}
loglevel: info
log_rotate_count: 0
certfiles:
  - "{directory / "certs" / "ejabberd.pem"}"
disable_sasl_mechanisms:
  - "digest-md5"
  - "x-oauth2"
registration_timeout: infinity
language: en

listen:
  - port: {ports["c2s"]}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: true
  - port: {ports["direct"]}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    tls: true
  - port: {ports["http"]}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /bosh: mod_bosh
      /ws: ejabberd_http_ws
      /upload: mod_http_upload
  - port: {ports["component"]}
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
      "component.{DOMAIN}":
        password: "{PASSWORD}"

acl:
  admin:
    user:
      - "admin@{DOMAIN}"
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8

access_rules:
  local:
    allow: local
  c2s:
    deny: blocked
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
  register:
    allow: all
  trusted_network:
    allow: loopback

api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"

shaper:
  normal: 10000000
  fast: 10000000

shaper_rules:
  max_user_sessions: 1000
  max_user_offline_messages: 5000
  c2s_shaper: none
  s2s_shaper: fast

modules:
  mod_adhoc: {{}}
  mod_admin_extra: {{}}
  mod_announce:
    access: announce
  mod_avatar: {{}}
  mod_blocking: {{}}
  mod_bosh: {{}}
  mod_caps: {{}}
  mod_carboncopy: {{}}
  mod_client_state: {{}}
  mod_configure: {{}}
  mod_disco: {{}}
  mod_http_upload:
    put_url: "http://127.0.0.1:{ports["http"]}/upload"
    docroot: "{directory / "upload"}"
    max_size: {UPLOAD_MAX}
  mod_last: {{}}
  mod_mam:
    default: always
  mod_muc:
    access:
      - allow
    access_admin:
      - allow: admin
    access_create: muc_create
    access_persistent: muc_create
    access_mam:
      - allow
    default_room_options:
      mam: true
  mod_muc_admin: {{}}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {{}}
  mod_privacy: {{}}
  mod_private: {{}}
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
  mod_push: {{}}
  mod_register:
    access: register
  mod_roster:
    versioning: true
  mod_stream_mgmt:
    resend_on_timeout: if_offline
  mod_time: {{}}
  mod_vcard:
    search: false
  mod_vcard_xupdate: {{}}
  mod_version: {{}}
"""


def ctl_config_text(directory: Path, node: str, dist_port: int, cookie: str) -> str:
    """ejabberdctl.cfg: a node of our own on a fixed loopback distribution port (so no epmd)."""
    return f"""
ERLANG_NODE={node}
ERL_DIST_PORT={dist_port}
INET_DIST_INTERFACE=127.0.0.1
ERL_OPTIONS="-setcookie {cookie} -env ERL_CRASH_DUMP_BYTES 0"
ERL={directory / "erl"}
EJABBERD_PID_PATH={directory / "ejabberd.pid"}
EJABBERD_BYPASS_WARNINGS=true
CONTRIB_MODULES_PATH={directory / "contrib"}
CONTRIB_MODULES_CONF_DIR={directory / "contrib"}
"""


ERL_WRAPPER = f"""#!/bin/sh
# su resets the open-files soft limit to 1024: raise it to the hard limit before starting beam.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
exec {ERL} "$@"
"""


def check_installed() -> None:
    if not (os.path.exists(EJABBERDCTL) and os.path.exists(ERL)):
        raise PeerError("ejabberd is not installed (apt-get install ejabberd)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        raise PeerError(f"ejabberd is installed but the {USER!r} user is missing") from None
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != USER:
        raise PeerError(f"ejabberdctl runs the node as {USER!r}: start the ejabberd peer as root or as that user")


def temp_parent() -> str | None:
    """Where to make the temp dir: the default, unless the ejabberd user could not reach it (then /tmp)."""
    default = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in (default, *default.parents)):
        return None
    return "/tmp"


def prepare(directory: Path, ports: dict[str, int], node: str, cookie: str) -> tuple[Path, Path]:
    """Write configs, the certificate and the erl wrapper; hand the tree to the ejabberd user."""
    for sub in ("spool", "logs", "upload", "contrib"):
        (directory / sub).mkdir()
    certs = directory / "certs"
    cert, key = self_signed(DOMAIN, certs, names=(f"conference.{DOMAIN}", f"upload.{DOMAIN}", f"pubsub.{DOMAIN}"))
    pem = certs / "ejabberd.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())  # ejabberd wants certificate and key in one file
    pem.chmod(0o640)
    config = directory / "ejabberd.yml"
    config.write_text(config_text(directory, ports))
    ctl_config = directory / "ejabberdctl.cfg"
    ctl_config.write_text(ctl_config_text(directory, node, ports["dist"], cookie))
    (directory / "inetrc").write_text('{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n')
    wrapper = directory / "erl"
    wrapper.write_text(ERL_WRAPPER)
    wrapper.chmod(0o755)
    if os.geteuid() == 0:
        user = pwd.getpwnam(USER)
        for path in (directory, *directory.rglob("*")):
            os.chown(path, user.pw_uid, user.pw_gid)
    return config, ctl_config


def ctl_args(directory: Path, config: Path, ctl_config: Path) -> list[str]:
    return [
        EJABBERDCTL, "--config-dir", str(directory), "--config", str(config), "--ctl-config", str(ctl_config),
        "--logs", str(directory / "logs"), "--spool", str(directory / "spool"),
    ]  # fmt: skip


def register_all(ctl: list[str], users: tuple[str, ...], deadline: float) -> None:
    """``ejabberdctl register`` for each user, in parallel (each call starts an Erlang node of its own)."""
    pending = {
        user: subprocess.Popen(
            [*ctl, "register", user, DOMAIN, PASSWORD], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for user in users
    }
    failures = []
    for user, proc in pending.items():
        try:
            out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            failures.append(f"{user}: timed out")
            continue
        if proc.returncode != 0:
            failures.append(f"{user}: {out.decode(errors='replace').strip()}")
    if failures:
        raise PeerError("ejabberdctl register failed: " + "; ".join(failures))


async def _try_login(target: Target, account: Account) -> None:
    from tigase_py.compat_tests.client import logged_in

    async with logged_in(target, account, who="readiness"):
        pass


def wait_for_login(
    target: Target, account: Account, process: subprocess.Popen[bytes], log: Path, deadline: float
) -> None:
    """Log in for real (STARTTLS, SASL, bind) until it works: the port opens before the modules are up."""
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PeerError(f"ejabberd exited with {process.returncode}{tail(log)}")
        try:
            asyncio.run(asyncio.wait_for(_try_login(target, account), max(1.0, deadline - time.monotonic())))
            return
        except Exception as exc:  # any failure means "not ready yet" until the deadline
            last = exc
        time.sleep(0.2)
    raise PeerError(f"could not log in to ejabberd as {account.jid}: {last!r}{tail(log)}")


def node_pid(directory: Path) -> int | None:
    """The beam process of our node, from the pidfile it writes once started."""
    with contextlib.suppress(OSError, ValueError):
        return int((directory / "ejabberd.pid").read_text().strip())
    return None


def alive(pid: int, node: str) -> bool:
    """``pid`` still runs as our node (the pidfile goes early in a shutdown, so check /proc)."""
    try:
        return node.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def shutdown(ctl: list[str], process: subprocess.Popen[bytes], directory: Path, node: str) -> None:
    """``ejabberdctl stop``; if the node lingers, signal it (``su`` puts beam in a session of its own)."""
    beam = node_pid(directory)
    if process.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            subprocess.run([*ctl, "stop"], capture_output=True, timeout=CTL_TIMEOUT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    if beam is not None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not alive(beam, node):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(beam), sig)
            end = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < end and alive(beam, node):
                time.sleep(0.1)
    stop(process)


@contextlib.contextmanager
def running(users: tuple[str, ...] = USERS, timeout: float = START_TIMEOUT) -> Iterator[Target]:
    """Start ejabberd, register ``users`` (and ``admin``) with one password, yield the Target, stop it."""
    check_installed()
    with tempfile.TemporaryDirectory(prefix="compat-ejabberd-", dir=temp_parent()) as tmp:
        directory = Path(tmp)
        ports = {name: free_port() for name in ("c2s", "direct", "http", "component", "dist")}
        node = f"compat{secrets.token_hex(4)}@localhost"
        config, ctl_config = prepare(directory, ports, node, secrets.token_hex(16))
        ctl = ctl_args(directory, config, ctl_config)
        log = directory / "logs" / "ejabberd.log"
        deadline = time.monotonic() + timeout
        with open(directory / "stdout.log", "wb") as out:
            process = subprocess.Popen(
                [*ctl, "foreground"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=directory,
                start_new_session=True,
                env={**os.environ, "LANG": "C.UTF-8"},
            )
        try:
            wait_for_port(ports["c2s"], process, log, timeout)
            register_all(ctl, (*users, "admin"), deadline)
            target = loopback_target("ejabberd", DOMAIN, users, ports, "/bosh", "/ws")
            probe = target.accounts[0] if target.accounts else Account(f"admin@{DOMAIN}", PASSWORD)
            wait_for_login(target, probe, process, log, deadline)
            wait_for_port(ports["http"], process, log, max(1.0, deadline - time.monotonic()))
            yield target
        finally:
            shutdown(ctl, process, directory, node)
