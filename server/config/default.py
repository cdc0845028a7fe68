"""Write a commented default ``tigase.toml`` plus a self-signed certificate for its vhost."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tigase_py.server.config import certs, types
from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import CONFIG_NAME

TEMPLATE = """\
# tigase-py configuration. Relative paths are relative to this file's directory.
# Sizes take "256KiB"/"1MiB" or a number of bytes; durations take "60s"/"5m"/"1h".

[server]
vhosts = [{vhost}]
admins = [{admins}]
pidfile = "tigase-py.pid"
log_level = "info"              # debug | info | warning | error
# log_file = "tigase-py.log"    # default: standard error
resource_conflict = "kick_old"  # kick_old | refuse

[storage]
# SQLite next to this file; for MariaDB: "mysql+asyncmy://tigase:secret@127.0.0.1/tigase"
url = "sqlite+aiosqlite:///tigase.db"

[tls]
certificate = "certs/{vhost_name}.crt"
key = "certs/{vhost_name}.key"

# Client connections, loopback only until you change the address (e.g. "0.0.0.0" or "::").
[[listeners]]
type = "c2s"
address = "127.0.0.1"
port = 5222
tls = "starttls"    # starttls | direct | none
require_tls = true

[[listeners]]
type = "c2s"
address = "127.0.0.1"
port = 5223
tls = "direct"

# HTTP: the REST admin API (needs an API key, below), Prometheus /metrics and /jolokia.
# Loopback only until you change the address; enabled = false turns it off.
[http]
enabled = true
address = "127.0.0.1"
port = 5280
# api_keys = {{ ops = "a-long-random-secret" }}
# metrics_allow = ["127.0.0.1/32", "::1/128"]   # who may read /metrics and /jolokia

# SNMP agent (off by default): [snmp] enabled = true, port = 1161, community = "public".

[limits]
max_stanza_size = "256KiB"
pre_auth_stanza_size = "16KiB"
max_stream_header_size = "4KiB"
max_tag_size = "16KiB"
max_connections = 10000
offline_queue_size = 100
max_sessions_per_user = 10
pre_auth_timeout = "60s"
idle_timeout = "14m"

[auth]
allow_plain_without_tls = false
scram_iterations = 4096
# mechanisms = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"]

[modules]
enabled = [{modules}]

# Per-module options go in their own table, e.g.
# [modules.offline]

# Per-vhost options:
[vhosts.{vhost}]
registration = false
"""


def render_default(vhost: str = "localhost", admins: Sequence[str] = ()) -> str:
    """The text of a default ``tigase.toml`` for ``vhost``; raises ValueError on a bad name."""
    from tigase_py.server.config.schema import ALL_MODULES

    domain = types.parse_domain(vhost)
    admin_jids = [types.parse_bare_jid(admin) for admin in admins]
    return TEMPLATE.format(
        vhost=json.dumps(domain),
        vhost_name=domain,
        admins=", ".join(json.dumps(admin) for admin in admin_jids),
        modules=", ".join(json.dumps(name) for name in ALL_MODULES),
    )


def write_default(
    directory: Path,
    vhost: str = "localhost",
    *,
    admins: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write ``<directory>/tigase.toml`` and ``<directory>/certs/<vhost>.crt|.key``; return the config path.

    Raises :class:`FileExistsError` when the config exists and ``force`` is false, and
    :class:`ConfigError` when ``vhost`` or an admin JID is invalid.
    """
    try:
        text = render_default(vhost, admins)
    except ValueError as exc:
        raise ConfigError(str(exc), key="vhost" if "domain" in str(exc) else "admins") from None
    path = directory / CONFIG_NAME
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists (use --force to overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    certs.write_self_signed(types.parse_domain(vhost), directory / "certs", force=force)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # it will hold the database password and API keys: only the server user reads it
    return path
