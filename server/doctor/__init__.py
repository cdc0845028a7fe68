"""`tigase-py doctor`: named checks of a server's config and host, in the style of `prosodyctl check`.

Each check returns findings (ok, warning, problem, skipped); a run fails when any is a problem.
`run(config, names)` runs the named checks (all by default) against a loaded config.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tigase_py.server.doctor import database, ports, system, tls
from tigase_py.server.doctor.model import Finding, Report

if TYPE_CHECKING:
    from tigase_py.server.config.schema import ServerConfig

__all__ = ["CHECKS", "Finding", "Report", "UnknownCheck", "run"]


class UnknownCheck(ValueError):
    """A check name that is not in `CHECKS`."""


def running_pid(config: ServerConfig) -> int | None:
    """The pid in the server's pidfile when that process is alive."""
    import os

    try:
        pid = int(config.server.pidfile.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:
        return pid  # alive, owned by another user (the service account)
    except OSError:
        return None
    return pid


def check_open_files(config: ServerConfig) -> list[Finding]:
    limit, source = system.process_limit(running_pid(config))
    return system.open_files(limit, config.limits.max_connections, source)


def check_certificates(config: ServerConfig) -> list[Finding]:
    now = datetime.datetime.now(datetime.UTC)
    return tls.certificates(config.tls.certificate, config.tls.key, config.server.vhosts, now)


def check_database(config: ServerConfig) -> list[Finding]:
    return asyncio.run(database.database(config.storage.url))


def configured_ports(config: ServerConfig) -> list[ports.Port]:
    found = [ports.Port("c2s", listener.address, listener.port) for listener in config.listeners]
    if config.http.enabled:
        found.append(ports.Port("http", config.http.address, config.http.port))
    if config.snmp.enabled:
        found.append(ports.Port("snmp", config.snmp.address, config.snmp.port, udp=True))
    return found


def check_ports(config: ServerConfig) -> list[Finding]:
    return ports.port_findings(configured_ports(config), running_pid(config))


def check_permissions(config: ServerConfig) -> list[Finding]:
    from sqlalchemy.engine import make_url

    from tigase_py.server.storage.users import SECRET_FILE

    key = [config.tls.key] if config.tls.key is not None else []
    secrets = [config.path, config.server.pidfile.parent / SECRET_FILE, *key]
    data = []
    url = make_url(config.storage.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        data = system.sqlite_files(config.directory / (url.database or ""))
    return system.permissions(secrets, data)


def check_clock(config: ServerConfig) -> list[Finding]:
    del config
    synchronised, source = system.ntp_synchronised()
    return system.clock(datetime.datetime.now(datetime.UTC), synchronised, source)


CHECKS: dict[str, tuple[str, Callable[[ServerConfig], list[Finding]]]] = {
    "open-files": ("RLIMIT_NOFILE against max_connections", check_open_files),
    "certificates": ("expiry, key and subjectAltNames against the vhosts", check_certificates),
    "database": ("reachable, schema at the newest migration", check_database),
    "ports": ("listener ports free or held by the running server", check_ports),
    "permissions": ("config, TLS key, server secret and SQLite files not readable by others", check_permissions),
    "clock": ("system clock sane and NTP-synchronised", check_clock),
}


def run(config: ServerConfig, names: Sequence[str] = ()) -> Report:
    """Run the named checks (every check when `names` is empty), in the table's order."""
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise UnknownCheck(f"unknown check {unknown[0]!r}; choose from {', '.join(CHECKS)}")
    report = Report()
    for name, (_, check) in CHECKS.items():
        if not names or name in names:
            report.findings.extend(check(config))
    return report
