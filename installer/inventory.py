"""Inventory and extra vars for the playbooks, built from the command-line options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tigase_py.installer import render, wheelhouse
from tigase_py.installer.options import CONFIG_DIR, STATE_DIR, InstallOptions, Targets

LOCAL_CONNECTIONS = ("local", "chroot", "community.general.chroot")


def ssh_args(targets: Targets) -> str:
    """Never prompt (a wrong key fails at once) and give up on a dead host quickly."""
    return f"-o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout={targets.connect_timeout}"


def split_host(name: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (an IPv6 address in brackets: ``[::1]:2222``) -> (user, host, port)."""
    user, at, rest = name.rpartition("@")
    address, port = rest, None
    if rest.startswith("["):
        address, _, tail = rest[1:].partition("]")
        port_text = tail.removeprefix(":")
    elif rest.count(":") == 1:
        address, _, port_text = rest.partition(":")
    else:
        port_text = ""  # a bare IPv6 address, or no port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{name}: the port must be a number from 1 to 65535")
        port = int(port_text)
    if not address:
        raise ValueError(f"{name}: no host name")
    return (user if at else None), address, port


def build_inventory(targets: Targets) -> dict[str, Any] | str:
    """A YAML-shaped inventory for ansible-runner, or the path of the user's inventory file."""
    if targets.inventory is not None:
        return str(targets.inventory.resolve())
    if targets.local:
        local: dict[str, Any] = {"ansible_connection": "local", "ansible_python_interpreter": "auto_silent"}
        if os.geteuid() == 0:
            local["tigase_become"] = False
        return {"all": {"hosts": {"localhost": local}}}
    hosts: dict[str, dict[str, Any]] = {}
    for name in targets.hosts:
        user, address, port = split_host(name)
        host: dict[str, Any] = {"ansible_host": address, "ansible_ssh_common_args": ssh_args(targets)}
        host["ansible_python_interpreter"] = "auto_silent"
        if port is not None or targets.ssh_port is not None:
            host["ansible_port"] = port if port is not None else targets.ssh_port
        if user is not None or targets.ssh_user is not None:
            host["ansible_user"] = user if user is not None else targets.ssh_user
        if targets.ssh_key is not None:
            host["ansible_ssh_private_key_file"] = str(targets.ssh_key)
        hosts[name] = host
    return {"all": {"hosts": hosts}}


def certificate_files(options: InstallOptions, scratch: Path) -> tuple[list[dict[str, str]], bool]:
    """([{src, dest}], replace): the given pair (replaces the host's), else a self-signed one made once."""
    crt_name, key_name = render.certificate_names(options)
    if options.certificate is not None and options.key is not None:
        pair = [(options.certificate.resolve(), crt_name), (options.key.resolve(), key_name)]
        return [{"src": str(src), "dest": dest} for src, dest in pair], True
    from tigase_py.server.config import certs

    crt, key = certs.write_self_signed(options.vhosts[0], scratch / "certs")
    return [{"src": str(crt), "dest": crt_name}, {"src": str(key), "dest": key_name}], False


def install_vars(options: InstallOptions, wheels: wheelhouse.Wheelhouse, scratch: Path) -> dict[str, Any]:
    """Extra vars of site.yml."""
    cert_files, replace = certificate_files(options, scratch)
    return {
        "tigase_prefix": options.prefix,
        "tigase_config_dir": CONFIG_DIR,
        "tigase_state_dir": STATE_DIR,
        "tigase_wheelhouse_archive": str(wheelhouse.archive(wheels, scratch)),
        "tigase_version": wheels.version,
        "tigase_wheel_python": wheels.python_version,
        "tigase_config_text": render.render(options),
        "tigase_cert_files": cert_files,
        "tigase_cert_replace": replace,
        "tigase_admin_jid": options.admin_jid or "",
        "tigase_admin_password": options.admin_password or "",
        "tigase_db_admin_url": options.db_admin_url or "",
        "tigase_db_name": options.db_name,
        "tigase_db_user": options.db_user,
        "tigase_db_password": options.db_password or "",
        "tigase_install_mariadb": options.install_mariadb,
        "tigase_max_connections": options.max_connections,
        "tigase_c2s_port": options.c2s_port,
        "tigase_http_port": options.http_port,
        "tigase_upgrade": options.upgrade,
        "tigase_serial": 1 if options.upgrade else "100%",
    }


def uninstall_vars(prefix: str, purge: bool) -> dict[str, Any]:
    return {"tigase_prefix": prefix, "tigase_purge": purge}
