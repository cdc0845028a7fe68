"""Find ``tigase.toml``, read it and build the frozen :class:`ServerConfig`.

Discovery order (the same for every command): ``--config FILE``, then ``$TIGASE_PY_CONFIG``,
then ``./tigase.toml``, then ``/etc/tigase-py/tigase.toml``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from tigase_py.server.config import ops_sections, schema, sections, services
from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.schema import ServerConfig

CONFIG_NAME = "tigase.toml"
ENV_VAR = "TIGASE_PY_CONFIG"
SYSTEM_CONFIG = Path("/etc/tigase-py") / CONFIG_NAME
SECTIONS = (
    "server", "storage", "tls", "listeners", "limits", "auth", "modules", "vhosts", "http", "snmp", "admin_socket",
    "services",
)  # fmt: skip
SOURCES = {
    "argument": "command argument",
    "flag": "--config option",
    "env": f"${ENV_VAR}",
    "cwd": "current directory",
    "system": "system default",
}


class ConfigLocation(NamedTuple):
    """Where the config file is and how it was found (a key of :data:`SOURCES`)."""

    path: Path
    source: str

    @property
    def description(self) -> str:
        return SOURCES.get(self.source, self.source)


def locate_config(explicit: Path | None = None) -> ConfigLocation:
    if explicit is not None:
        return ConfigLocation(explicit, "flag")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return ConfigLocation(Path(from_env), "env")
    local = Path(CONFIG_NAME)
    if local.is_file():
        return ConfigLocation(local, "cwd")
    if SYSTEM_CONFIG.is_file():
        return ConfigLocation(SYSTEM_CONFIG, "system")
    raise ConfigError(
        f"no configuration file found (looked for ./{CONFIG_NAME} and {SYSTEM_CONFIG}); "
        f"run `tigase-py init` or pass --config FILE"
    )


def find_config(explicit: Path | None) -> Path:
    return locate_config(explicit).path


def load_config(path: Path) -> ServerConfig:
    """Read and validate ``path``; raise :class:`ConfigError` naming the file, key and reason."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=name) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=name) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=name) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=name) from None
    config = config_from_dict(data, path, file=name)
    check_module_options(config, name)
    return config


def check_module_options(config: ServerConfig, file: str) -> None:
    """Build every enabled module's typed options now, so a bad one fails at load, not at start."""
    from tigase_py.server.core.registry import ModuleLoadError, resolve_order, validate_options

    try:
        validate_options(config.modules.enabled, config.modules.options)
    except ModuleLoadError as exc:
        raise ConfigError(str(exc), file=file, key="modules.enabled") from None
    except (ValueError, TypeError) as exc:
        key, _, reason = str(exc).partition(": ")
        raise ConfigError(reason or str(exc), file=file, key=key if reason else "modules") from None
    services.check_services(config, resolve_order(config.modules.enabled), file)


def config_from_dict(data: Mapping[str, object], path: Path, *, file: str | None = None) -> ServerConfig:
    """Build a config from already-parsed TOML; relative paths resolve against ``path``'s directory.

    ``config_from_dict({}, tmp / "tigase.toml")`` gives the defaults, which is handy in tests
    (the default listener needs ``[tls]``, so pass ``listeners`` with ``tls = "none"`` there).
    """
    path = path.expanduser().resolve()
    top = sections.Table(dict(data), "", file or str(path), path.parent)
    general = sections.read_general(top.sub("server"))
    storage = sections.read_storage(top.sub("storage"))
    tls = sections.read_tls(top.sub("tls"))
    listeners = _read_listeners(top)
    sections.check_listeners(listeners, tls, top)
    limits = sections.read_limits(top.sub("limits"))
    auth = sections.read_auth(top.sub("auth"))
    modules = sections.read_modules(top.sub("modules"))
    vhost_options = sections.read_vhost_options(top.sub("vhosts"), general.vhosts)
    http = ops_sections.read_http(top.sub("http"))
    snmp = ops_sections.read_snmp(top.sub("snmp"))
    admin_socket = ops_sections.read_admin_socket(top.sub("admin_socket"), general.pidfile.parent)
    modules = dataclasses.replace(modules, services=services.read_services(top.sub("services")))
    top.finish(SECTIONS)
    return schema.ServerConfig(
        path=path,
        server=general,
        storage=storage,
        tls=tls,
        listeners=tuple(listeners),
        limits=limits,
        auth=auth,
        modules=modules,
        vhost_options=vhost_options,
        http=http,
        snmp=snmp,
        admin_socket=admin_socket,
    )


def _read_listeners(top: sections.Table) -> list[schema.ListenerConfig]:
    top.seen.add("listeners")
    raw = top.data.get("listeners")
    if raw is None:
        return [schema.ListenerConfig()]
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        top.fail("listeners", "expected [[listeners]] tables")
    if not raw:
        top.fail("listeners", "at least one [[listeners]] table is required")
    return [
        sections.read_listener(sections.Table(item, f"listeners[{index}]", top.file, top.base))
        for index, item in enumerate(raw)
    ]
