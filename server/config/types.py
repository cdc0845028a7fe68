"""Typed value parsers shared by the config loader and module options.

Each parser takes the raw TOML value and returns the typed value, or raises :class:`ValueError`
whose message is the reason only (``expected a port 1-65535, got 70000``); the loader adds the
file and key path.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence

from tigase_py.server import jid

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):[^@/]*@")


def show(value: object) -> str:
    """Render a raw value the way it looks in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def parse_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {show(value)}")
    return value


def parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {show(value)}")
    return value


def parse_int(value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {show(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"must be at most {maximum}, got {value}")
    return value


def parse_choice(value: object, choices: Sequence[str]) -> str:
    """Match case-insensitively and return the choice as the schema spells it."""
    if isinstance(value, str):
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
    raise ValueError(f"expected one of {', '.join(choices)}, got {show(value)}")


def parse_str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected an array of strings, got {show(value)}")
    return tuple(value)


def parse_networks(value: object) -> tuple[str, ...]:
    """An array of CIDR networks (or single addresses), each returned in canonical form."""
    items = parse_str_list(value)
    networks: list[str] = []
    for index, item in enumerate(items):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"item {index}: {show(item)} is not an address or CIDR network") from None
    return tuple(networks)


def parse_size(value: object) -> int:
    """``"256KiB"``, ``"1MiB"``, ``"10MB"`` or an integer number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    unit = _SIZE_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f'expected a size like "256KiB", got {show(value)}')
    return int(float(match.group(1)) * unit)


def parse_duration(value: object) -> float:
    """``"60s"``, ``"5m"``, ``"1h"``, ``"500ms"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'expected a duration like "60s", "5m" or "1h", got {show(value)}')
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*$")
_PER = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_rate(value: object) -> float:
    """Events per second from ``"10/s"``, ``"300/m"``, ``"1000/h"`` or a number (per second)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _RATE.match(value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f'expected a rate like "10/s" or "300/m", got {show(value)}')
    return float(match.group(1)) / _PER[match.group(2)]


def parse_byte_rate(value: object) -> int:
    """Bytes per second from ``"64KiB/s"`` (or a size, read as per second); at least 1."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.endswith("/s"):
        text = text[:-2]
    try:
        rate = parse_size(text)
    except ValueError:
        raise ValueError(f'expected a byte rate like "64KiB/s", got {show(value)}') from None
    if rate < 1:
        raise ValueError(f'expected a byte rate like "64KiB/s", got {show(value)}')
    return rate


def parse_port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"expected a port 1-65535, got {show(value)}")
    return value


def parse_ip(value: object) -> str:
    """An IPv4 or IPv6 address (not a host name), returned in canonical form."""
    try:
        return str(ipaddress.ip_address(parse_str(value)))
    except ValueError:
        raise ValueError(f'expected an IP address like "127.0.0.1" or "::", got {show(value)}') from None


def parse_domain(value: object) -> str:
    """A DNS domain name usable as a virtual host, normalised to lower case."""
    reason = f'expected a domain name like "example.com", got {show(value)}'
    try:
        domain = jid.prep_domain(parse_str(value))
        ascii_form = domain.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise ValueError(reason) from None
    if len(ascii_form) > 253 or not all(_LABEL.match(label) for label in ascii_form.split(".")):
        raise ValueError(reason)
    return domain


def parse_bare_jid(value: object) -> str:
    """A bare JID with a localpart (``admin@example.com``), normalised."""
    reason = f'expected a bare JID like "admin@example.com", got {show(value)}'
    try:
        parsed = jid.parse(parse_str(value))
        parse_domain(parsed.domain)
    except ValueError:
        raise ValueError(reason) from None
    if not parsed.local or parsed.resource:
        raise ValueError(reason)
    return parsed.bare_str


def parse_url(value: object) -> str:
    text = parse_str(value)
    if not _URL.match(text):
        raise ValueError(f'expected a database URL like "sqlite+aiosqlite:///tigase.db", got {show(value)}')
    return text


def redact_url(url: str) -> str:
    """Hide the password in a database URL before printing it."""
    return _URL_PASSWORD.sub(r"\1:***@", url)
