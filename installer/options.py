"""What ``tigase-py install`` and ``uninstall`` were asked to do, independent of the CLI framework."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PREFIX = "/opt/tigase-py"
CONFIG_DIR = "/etc/tigase-py"
STATE_DIR = "/var/lib/tigase-py"


@dataclass(frozen=True, slots=True)
class Targets:
    """Where to install: SSH hosts, an inventory file, or this machine."""

    hosts: tuple[str, ...] = ()
    inventory: Path | None = None
    local: bool = False
    ssh_user: str | None = None
    ssh_port: int | None = None
    ssh_key: Path | None = None
    connect_timeout: int = 10

    def describe(self) -> str:
        if self.local:
            return "this machine"
        if self.inventory is not None:
            return f"the hosts of {self.inventory}"
        return ", ".join(self.hosts)


@dataclass(frozen=True, slots=True)
class InstallOptions:
    """The server to put on each host."""

    vhosts: tuple[str, ...] = ("localhost",)
    db_url: str | None = None  # None: embedded SQLite in the state directory
    db_admin_url: str | None = None  # to create the database and its account first
    db_name: str = "tigase"
    db_user: str = "tigase"
    db_password: str | None = None
    install_mariadb: bool = False
    admin_jid: str | None = None
    admin_password: str | None = None
    prefix: str = DEFAULT_PREFIX
    address: str = "0.0.0.0"
    c2s_port: int = 5222
    direct_tls_port: int = 5223
    http_port: int = 5280
    max_connections: int = 10000
    certificate: Path | None = None
    key: Path | None = None
    upgrade: bool = False
    check: bool = False
    wheelhouse: Path | None = None  # prebuilt; default: built from this checkout
