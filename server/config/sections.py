"""One parser per TOML section; each reads a :class:`Table` and returns a frozen schema object."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from tigase_py.server.config import schema, services, types
from tigase_py.server.config.errors import ConfigError

T = TypeVar("T")
_MISSING = object()


class Table:
    """A TOML table being read: remembers its key path and reports unknown keys."""

    def __init__(self, data: object, key: str, file: str, base: Path) -> None:
        self.key = key
        self.file = file
        self.base = base
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail(key, f"expected a table, got {types.show(data)}")
        self.data: dict[str, object] = dict(data)
        self.seen: set[str] = set()

    def path_of(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, key: str, reason: str) -> NoReturn:
        raise ConfigError(reason, file=self.file, key=key or None)

    def get(self, name: str, parse: Callable[[object], T], default: T) -> T:
        self.seen.add(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            return default
        try:
            return parse(value)
        except ValueError as exc:
            self.fail(self.path_of(name), str(exc))

    def path(self, name: str, default: Path | None) -> Path | None:
        """A file path, resolved against the config file's directory."""
        text = self.get(name, types.parse_str, None)
        if text is None:
            return default
        if not text:
            self.fail(self.path_of(name), "expected a file path, got an empty string")
        return (self.base / Path(text).expanduser()).resolve()

    def sub(self, name: str) -> Table:
        self.seen.add(name)
        return Table(self.data.get(name), self.path_of(name), self.file, self.base)

    def finish(self, known: tuple[str, ...] | None = None) -> None:
        """Reject keys nobody read (with a did-you-mean when one is close)."""
        for name in self.data:
            if name not in self.seen:
                choices = sorted(known if known is not None else self.seen)
                close = difflib.get_close_matches(name, choices, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                self.fail(self.path_of(name), f"unknown key{hint}")


def _in(choices: tuple[str, ...]) -> Callable[[object], str]:
    return lambda value: types.parse_choice(value, choices)


def _between(minimum: int, maximum: int | None = None) -> Callable[[object], int]:
    return lambda value: types.parse_int(value, minimum, maximum)


def _each(parse: Callable[[object], str]) -> Callable[[object], tuple[str, ...]]:
    def parse_all(value: object) -> tuple[str, ...]:
        items = types.parse_str_list(value)
        result: list[str] = []
        for index, item in enumerate(items):
            try:
                parsed = parse(item)
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from None
            if parsed in result:
                raise ValueError(f"item {index}: duplicate {types.show(item)}")
            result.append(parsed)
        return tuple(result)

    return parse_all


def read_general(table: Table) -> schema.GeneralConfig:
    default = schema.GeneralConfig()
    vhosts = table.get("vhosts", _each(types.parse_domain), default.vhosts)
    if not vhosts:
        table.fail(table.path_of("vhosts"), "at least one virtual host is required")
    general = schema.GeneralConfig(
        vhosts=vhosts,
        admins=table.get("admins", _each(types.parse_bare_jid), default.admins),
        pidfile=table.path("pidfile", table.base / "tigase-py.pid") or default.pidfile,
        log_level=table.get("log_level", _in(schema.LOG_LEVELS), default.log_level),
        log_file=table.path("log_file", None),
        resource_conflict=table.get("resource_conflict", _in(schema.RESOURCE_CONFLICTS), "kick_old"),
    )
    table.finish()
    return general


def _resolve_sqlite(url: str, base: Path) -> str:
    """``sqlite+aiosqlite:///tigase.db`` → an absolute path next to the config file."""
    scheme, _, rest = url.partition(":///")
    if not scheme.startswith("sqlite") or not rest:
        return url
    file_part, sep, query = rest.partition("?")
    if file_part.startswith(":memory:") or file_part.startswith("/") or file_part.startswith("file:"):
        return url
    return f"{scheme}:///{(base / file_part).resolve()}{sep}{query}"


def read_storage(table: Table) -> schema.StorageConfig:
    url = table.get("url", types.parse_url, f"sqlite+aiosqlite:///{table.base / 'tigase.db'}")
    default = schema.StorageConfig(url=url)
    timeout = table.get("timeout", types.parse_duration, default.timeout)
    connect_timeout = table.get("connect_timeout", types.parse_duration, default.connect_timeout)
    table.finish()
    for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
        if value <= 0:
            table.fail(table.path_of(name), "must be a positive duration")
    return schema.StorageConfig(url=_resolve_sqlite(url, table.base), timeout=timeout, connect_timeout=connect_timeout)


def read_tls(table: Table) -> schema.TlsConfig:
    certificate = table.path("certificate", None)
    key = table.path("key", None)
    table.finish()
    if (certificate is None) != (key is None):
        missing = "key" if key is None else "certificate"
        table.fail(table.path_of(missing), "tls.certificate and tls.key must be given together")
    for name, file in (("certificate", certificate), ("key", key)):
        if file is not None and not file.is_file():
            table.fail(table.path_of(name), f"file not found: {file}")
    return schema.TlsConfig(certificate=certificate, key=key)


def read_listener(table: Table) -> schema.ListenerConfig:
    default = schema.ListenerConfig()
    tls = table.get("tls", _in(schema.LISTENER_TLS), default.tls)
    listener = schema.ListenerConfig(
        kind=table.get("type", _in(schema.LISTENER_KINDS), default.kind),
        address=table.get("address", types.parse_ip, default.address),
        port=table.get("port", types.parse_port, default.port),
        tls=tls,
        require_tls=table.get("require_tls", types.parse_bool, tls != "none"),
    )
    table.finish()
    if listener.tls == "none" and listener.require_tls:
        table.fail(table.path_of("require_tls"), 'require_tls = true needs tls = "starttls" or "direct"')
    return listener


def read_limits(table: Table) -> schema.LimitsConfig:
    default = schema.LimitsConfig()
    limits = schema.LimitsConfig(
        max_stanza_size=table.get("max_stanza_size", types.parse_size, default.max_stanza_size),
        pre_auth_stanza_size=table.get("pre_auth_stanza_size", types.parse_size, default.pre_auth_stanza_size),
        max_stream_header_size=table.get("max_stream_header_size", types.parse_size, default.max_stream_header_size),
        max_tag_size=table.get("max_tag_size", types.parse_size, default.max_tag_size),
        max_connections=table.get("max_connections", _between(1), default.max_connections),
        offline_queue_size=table.get("offline_queue_size", _between(0), default.offline_queue_size),
        max_sessions_per_user=table.get("max_sessions_per_user", _between(1), default.max_sessions_per_user),
        pre_auth_timeout=table.get("pre_auth_timeout", types.parse_duration, default.pre_auth_timeout),
        idle_timeout=table.get("idle_timeout", types.parse_duration, default.idle_timeout),
        trusted_networks=table.get("trusted_networks", types.parse_networks, default.trusted_networks),
        login_failures_per_account_ip=table.get(
            "login_failures_per_account_ip", _between(1), default.login_failures_per_account_ip
        ),
        login_failures_per_ip=table.get("login_failures_per_ip", _between(1), default.login_failures_per_ip),
        login_failures_per_account=table.get(
            "login_failures_per_account", _between(1), default.login_failures_per_account
        ),
        login_lockout=table.get("login_lockout", types.parse_duration, default.login_lockout),
        login_delay=table.get("login_delay", types.parse_duration, default.login_delay),
        http_auth_failures_per_ip=table.get(
            "http_auth_failures_per_ip", _between(1), default.http_auth_failures_per_ip
        ),
        registrations_per_ip=table.get("registrations_per_ip", _between(0), default.registrations_per_ip),
    )
    limits = dataclasses.replace(limits, **read_transport_limits(table, default))
    table.finish()
    if limits.max_stanza_size < 10000:
        table.fail(table.path_of("max_stanza_size"), "must be at least 10000 bytes (RFC 6120 §13.12)")
    if limits.output_buffer_soft > limits.output_buffer_hard:
        table.fail(table.path_of("output_buffer_soft"), "must not be above output_buffer_hard")
    for key, minimum in (("pre_auth_stanza_size", 4096), ("max_stream_header_size", 1024), ("max_tag_size", 1024)):
        if getattr(limits, key) < minimum:
            table.fail(table.path_of(key), f"must be at least {minimum} bytes")
    return limits


def read_transport_limits(table: Table, default: schema.LimitsConfig) -> dict[str, Any]:
    """The ``[limits]`` keys of the transport: backpressure marks, idle pings, admission, byte rates."""
    sizes = ("output_buffer_soft", "output_buffer_hard", "pre_auth_byte_burst", "byte_burst")
    values: dict[str, Any] = {name: table.get(name, types.parse_size, getattr(default, name)) for name in sizes}
    for name in ("pre_auth_byte_rate", "byte_rate"):
        values[name] = table.get(name, types.parse_byte_rate, getattr(default, name))
    for name in ("idle_ping_timeout", "slow_reader_timeout"):
        values[name] = table.get(name, types.parse_duration, getattr(default, name))
    values["ip_connection_rate"] = table.get("ip_connection_rate", types.parse_rate, default.ip_connection_rate)
    values["ip_connection_burst"] = table.get("ip_connection_burst", _between(1), default.ip_connection_burst)
    values["max_pre_auth_per_ip"] = table.get("max_pre_auth_per_ip", _between(1), default.max_pre_auth_per_ip)
    return values


def _mechanism(value: object) -> str:
    return types.parse_choice(types.parse_str(value).upper(), schema.MECHANISMS)


def read_auth(table: Table) -> schema.AuthConfig:
    default = schema.AuthConfig()
    auth = schema.AuthConfig(
        allow_plain_without_tls=table.get("allow_plain_without_tls", types.parse_bool, False),
        scram_iterations=table.get("scram_iterations", _between(4096, 10_000_000), default.scram_iterations),
        mechanisms=table.get("mechanisms", _each(_mechanism), default.mechanisms),
    )
    table.finish()
    if not auth.mechanisms:
        table.fail(table.path_of("mechanisms"), "at least one SASL mechanism is required")
    return auth


def _module_name(value: object) -> str:
    """A built-in module, or one an installed distribution declares (entry point group tigase_py.modules)."""
    name = types.parse_str(value)
    if name in schema.ALL_MODULES or name in schema.OPTIONAL_MODULES:
        return name
    from tigase_py.server.core import module_names

    if name in module_names.entry_point_names():
        return name
    close = difflib.get_close_matches(name, (*schema.ALL_MODULES, *schema.OPTIONAL_MODULES), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise ValueError(f"unknown module {types.show(name)}{hint}: {module_names.NOT_FOUND}")


def read_modules(table: Table) -> schema.ModulesConfig:
    enabled = table.get("enabled", _each(_module_name), schema.ALL_MODULES)
    built_in = (*schema.ALL_MODULES, *schema.OPTIONAL_MODULES)
    known = (*built_in, *(name for name in enabled if name not in built_in))
    options: dict[str, dict[str, object]] = {}
    for name, value in table.data.items():
        if name == "enabled":
            continue
        if name not in known:
            continue  # reported by finish() with a did-you-mean
        if not isinstance(value, dict):
            table.fail(table.path_of(name), f"expected a table [modules.{name}], got {types.show(value)}")
        table.seen.add(name)
        options[name] = dict(value)
    table.finish(("enabled", *known))
    return schema.ModulesConfig(enabled=enabled, options=options)


def read_vhost_options(table: Table, vhosts: tuple[str, ...]) -> dict[str, schema.VhostOptions]:
    result: dict[str, schema.VhostOptions] = {}
    for name in table.data:
        key = table.path_of(f'"{name}"')
        try:
            domain = types.parse_domain(name)
        except ValueError as exc:
            table.fail(key, str(exc))
        if domain not in vhosts:
            table.fail(key, f"not listed in server.vhosts ({', '.join(vhosts)})")
        table.seen.add(name)
        sub = Table(table.data[name], key, table.file, table.base)
        result[domain] = schema.VhostOptions(
            registration=sub.get("registration", types.parse_bool, False),
            services=services.read_services(sub.sub("services")),
        )
        sub.finish()
    return result


def check_listeners(listeners: list[schema.ListenerConfig], tls: schema.TlsConfig, table: Table) -> None:
    """Cross-checks: TLS listeners need a certificate; no two listeners may share a port."""
    taken: dict[tuple[str, int], int] = {}
    for index, listener in enumerate(listeners):
        key = f"listeners[{index}]"
        if listener.tls != "none" and not tls.is_configured:
            table.fail(f"{key}.tls", f'tls = "{listener.tls}" needs tls.certificate and tls.key')
        for (address, port), other in taken.items():
            if port == listener.port and _overlaps(address, listener.address):
                table.fail(f"{key}.port", f"{address}:{port} is already used by listeners[{other}]")
        taken[(listener.address, listener.port)] = index


def _overlaps(first: str, second: str) -> bool:
    if first == second or "::" in (first, second):
        return True
    wildcard = "0.0.0.0"
    return wildcard in (first, second) and ":" not in first + second
