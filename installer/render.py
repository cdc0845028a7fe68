"""The host's ``tigase.toml``: ``tigase-py init``'s default config with the install options applied.

The text is validated on the controller by the server's own loader before anything is copied.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

from tigase_py.installer import toml_text
from tigase_py.installer.options import CONFIG_DIR, STATE_DIR, InstallOptions

HEADER = "# Written by `tigase-py install`; a new install overwrites this file.\n\n"


def sqlite_url(state_dir: str) -> str:
    return f"sqlite+aiosqlite:///{state_dir}/tigase.db"


def certificate_names(options: InstallOptions) -> tuple[str, str]:
    """File names of the certificate and key under ``<config dir>/certs``."""
    return f"{options.vhosts[0]}.crt", f"{options.vhosts[0]}.key"


def render(options: InstallOptions, config_dir: str = CONFIG_DIR, state_dir: str = STATE_DIR) -> str:
    """``tigase.toml`` for a host; raises ValueError on a bad vhost or admin JID."""
    from tigase_py.server.config import default

    admins = [options.admin_jid] if options.admin_jid else []
    document: dict[str, Any] = tomllib.loads(default.render_default(options.vhosts[0], admins))
    crt, key = certificate_names(options)
    server = document["server"]
    server["vhosts"] = list(options.vhosts)
    server["pidfile"] = f"{state_dir}/tigase-py.pid"
    document["storage"]["url"] = options.db_url or sqlite_url(state_dir)
    document["tls"] = {"certificate": f"{config_dir}/certs/{crt}", "key": f"{config_dir}/certs/{key}"}
    starttls, direct = document["listeners"][:2]
    starttls.update(address=options.address, port=options.c2s_port)
    direct.update(address=options.address, port=options.direct_tls_port)
    document["limits"]["max_connections"] = options.max_connections
    document["http"] = {"enabled": True, "address": "127.0.0.1", "port": options.http_port}
    template_vhost = document.pop("vhosts")[options.vhosts[0]]
    document["vhosts"] = {name: dict(template_vhost) for name in options.vhosts}
    return HEADER + toml_text.dumps(document)


def validate(options: InstallOptions) -> None:
    """Load the rendered config with the server's loader (with stand-in certificate files)."""
    from tigase_py.server.config import types
    from tigase_py.server.config.load import load_config

    for vhost in options.vhosts:
        try:
            types.parse_domain(vhost)
        except ValueError as exc:
            raise ValueError(f"--vhost {vhost}: {exc}") from None
    if options.admin_jid:
        try:
            types.parse_bare_jid(options.admin_jid)
        except ValueError as exc:
            raise ValueError(f"--admin: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="tigase-py-config-") as scratch:
        root = Path(scratch)
        (root / "certs").mkdir()
        for name in certificate_names(options):
            (root / "certs" / name).write_text("")
        path = root / "tigase.toml"
        path.write_text(render(options, config_dir=str(root), state_dir=str(root)), encoding="utf-8")
        load_config(path)
