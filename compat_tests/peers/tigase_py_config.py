"""The ``tigase.toml`` of a throwaway server on loopback: tests, benchmarks and the compat suite's peer.

Pure text rendering from explicit parameters: nothing is read or written, and no server code is imported.
Every listener is a c2s one on ``127.0.0.1``; keys left as ``None`` are not written (the schema's default).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Value = str | int | bool | Path | Sequence[str] | Mapping[str, "Value"]


@dataclass(frozen=True)
class Listener:
    port: int
    tls: str = "starttls"  # starttls | direct | none
    require_tls: bool | None = None


def every_transport(starttls: int, direct: int, plain: int) -> list[Listener]:
    """A STARTTLS, a direct-TLS and a plain-text c2s listener (PLAIN there needs ``allow_plain_without_tls``)."""
    return [Listener(starttls, "starttls"), Listener(direct, "direct"), Listener(plain, "none", require_tls=False)]


def toml_value(value: Value) -> str:
    """``value`` as a TOML value: booleans, integers, basic strings, arrays of strings and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if not isinstance(value, Mapping):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return "{ " + ", ".join(f"{name} = {toml_value(item)}" for name, item in value.items()) + " }"


def table(name: str, options: Mapping[str, Value]) -> str:
    lines = [f"[{name}]", *(f"{key} = {toml_value(value)}" for key, value in options.items())]
    return "\n".join(lines) + "\n"


def listener_table(listener: Listener) -> str:
    options: dict[str, Value] = {"type": "c2s", "address": "127.0.0.1", "port": listener.port, "tls": listener.tls}
    if listener.require_tls is not None:
        options["require_tls"] = listener.require_tls
    return table("[listeners]", options)


def render_config(
    *,
    vhosts: Sequence[str],
    storage_url: str,
    certificate: Path,
    key: Path,
    listeners: Sequence[Listener],
    http_port: int,
    pidfile: str | Path = "tigase.pid",
    log_level: str = "warning",
    admins: Sequence[str] | None = None,
    limits: Mapping[str, Value] | None = None,
    auth: Mapping[str, Value] | None = None,
    http: Mapping[str, Value] | None = None,
    storage: Mapping[str, Value] | None = None,
    extra: str = "",
) -> str:
    """The config text; ``limits``/``auth``/``http``/``storage`` add keys to their tables, ``extra`` comes last."""
    server: dict[str, Value] = {"vhosts": vhosts, "pidfile": pidfile, "log_level": log_level}
    if admins is not None:
        server["admins"] = admins
    parts = [
        table("server", server),
        table("storage", {**(storage or {}), "url": storage_url}),
        table("tls", {"certificate": certificate, "key": key}),
        *(listener_table(listener) for listener in listeners),
    ]
    if limits:
        parts.append(table("limits", limits))
    if auth:
        parts.append(table("auth", auth))
    parts.append(table("http", {**(http or {}), "port": http_port}))
    return "\n".join(parts) + extra + "\n"
