"""Readers for the operations sections: ``[http]``, ``[snmp]`` and ``[admin_socket]``."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from tigase_py.server.config import schema, types
from tigase_py.server.config.sections import Table

_OID = re.compile(r"^1(\.\d+)+$")


def _networks(value: object) -> tuple[str, ...]:
    items = types.parse_str_list(value)
    for index, item in enumerate(items):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"item {index}: {types.show(item)} is not an address or CIDR network") from None
    return items


def _keys(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f'expected a table of name = "key" or [http.api_keys.NAME] tables, got {types.show(value)}')
    keys: dict[str, str] = {}
    for name, key in value.items():
        if isinstance(key, dict):
            continue  # a [http.api_keys.NAME] table with scopes, read by _scoped_keys
        if not isinstance(key, str) or len(key) < 16:
            raise ValueError(f"{name}: an API key must be a string of at least 16 characters")
        keys[str(name)] = key
    return keys


def _scopes(value: object) -> frozenset[str]:
    scopes = types.parse_str_list(value)
    for scope in scopes:
        if scope not in schema.API_SCOPES:
            raise ValueError(f"unknown scope {types.show(scope)} (scopes: {', '.join(schema.API_SCOPES)})")
    if not scopes:
        raise ValueError("give at least one scope")
    return frozenset(scopes)


def _scoped_keys(table: Table, keys: dict[str, str]) -> dict[str, frozenset[str]]:
    """``[http.api_keys.NAME] key = "..." scopes = [...]`` tables: their keys join ``keys``."""
    scopes: dict[str, frozenset[str]] = {}
    raw = table.data.get("api_keys")
    if not isinstance(raw, dict):
        return scopes
    for name, value in raw.items():
        if not isinstance(value, dict):
            continue
        sub = Table(value, f"{table.path_of('api_keys')}.{name}", table.file, table.base)
        key = sub.get("key", types.parse_str, "")
        if len(key) < 16:
            sub.fail(sub.path_of("key"), "an API key must be a string of at least 16 characters")
        keys[str(name)] = key
        scopes[str(name)] = sub.get("scopes", _scopes, frozenset({"read"}))
        sub.finish()
    return scopes


def read_http(table: Table) -> schema.HttpConfig:
    default = schema.HttpConfig()
    api_keys: dict[str, str] = table.get("api_keys", _keys, {})
    http = schema.HttpConfig(
        enabled=table.get("enabled", types.parse_bool, default.enabled),
        address=table.get("address", types.parse_ip, default.address),
        port=table.get("port", types.parse_port, default.port),
        api_keys=api_keys,
        api_key_scopes=_scoped_keys(table, api_keys),
        scripts_upload=table.get("scripts_upload", types.parse_bool, default.scripts_upload),
        cors_origins=table.get("cors_origins", types.parse_str_list, default.cors_origins),
        metrics_allow=table.get("metrics_allow", _networks, default.metrics_allow),
        scripts_dir=table.path("scripts_dir", table.base / "scripts"),
    )
    table.finish()
    return http


def _oid(value: object) -> str:
    text = types.parse_str(value)
    if not _OID.match(text):
        raise ValueError(f'expected a dotted OID like "1.3.6.1.4.1.32473.1", got {types.show(value)}')
    return text


def _user(table: Table) -> schema.SnmpUser:
    def key(value: object) -> str:
        text = types.parse_str(value)
        if len(text) < 8:
            raise ValueError("SNMPv3 keys need at least 8 characters")
        return text

    name = table.get("name", types.parse_str, "")
    if not name:
        table.fail(table.path_of("name"), "each SNMPv3 user needs a name")
    user = schema.SnmpUser(
        name=name,
        auth_key=table.get("auth_key", key, ""),
        priv_key=table.get("priv_key", key, ""),
        auth_protocol=table.get("auth_protocol", lambda v: types.parse_choice(v, schema.SNMP_AUTH), "SHA"),
        priv_protocol=table.get("priv_protocol", lambda v: types.parse_choice(v, schema.SNMP_PRIV), "AES"),
    )
    if not user.auth_key or not user.priv_key:
        table.fail(table.key, "each SNMPv3 user needs auth_key and priv_key (authPriv only)")
    table.finish()
    return user


def _versions(value: object) -> tuple[str, ...]:
    items = [types.parse_choice(item, schema.SNMP_VERSIONS) for item in types.parse_str_list(value)]
    if not items:
        raise ValueError('expected at least one of "1", "2c", "3"')
    return tuple(version for version in schema.SNMP_VERSIONS if version in items)


def read_snmp(table: Table) -> schema.SnmpConfig:
    default = schema.SnmpConfig()
    table.seen.add("users")
    raw_users = table.data.get("users", [])
    if not isinstance(raw_users, list) or not all(isinstance(item, dict) for item in raw_users):
        table.fail(table.path_of("users"), "expected [[snmp.users]] tables")
    users = tuple(
        _user(Table(item, f"{table.path_of('users')}[{index}]", table.file, table.base))
        for index, item in enumerate(raw_users)
    )
    community = table.get("community", types.parse_str, "public")
    snmp = schema.SnmpConfig(
        enabled=table.get("enabled", types.parse_bool, default.enabled),
        address=table.get("address", types.parse_ip, default.address),
        port=table.get("port", types.parse_port, default.port),
        community=community or None,
        users=users,
        base_oid=table.get("base_oid", _oid, default.base_oid),
        versions=table.get("versions", _versions, default.versions),
        sys_name=table.get("sys_name", types.parse_str, None) or None,
        sys_contact=table.get("sys_contact", types.parse_str, default.sys_contact),
        sys_location=table.get("sys_location", types.parse_str, default.sys_location),
    )
    table.finish()
    return snmp


def _group(value: object) -> str | None:
    text = types.parse_str(value).strip()
    if text and not re.fullmatch(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?", text):
        raise ValueError(f"expected a group name, got {types.show(value)}")
    return text or None


def read_admin_socket(table: Table, run_dir: Path) -> schema.AdminSocketConfig:
    """``run_dir``: where the server keeps its pidfile; the socket goes beside it unless ``path`` says."""
    default = schema.AdminSocketConfig()
    admin_socket = schema.AdminSocketConfig(
        enabled=table.get("enabled", types.parse_bool, default.enabled),
        path=table.path("path", run_dir / default.path) or run_dir / default.path,
        group=table.get("group", _group, None),
    )
    table.finish()
    return admin_socket
