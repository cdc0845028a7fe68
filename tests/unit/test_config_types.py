"""Typed value parsers: sizes, durations, ports, addresses, domains, JIDs."""

from __future__ import annotations

import pytest

from tigase_py.server.config import types


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1024, 1024), ("256KiB", 262144), ("1MiB", 1048576), ("10KB", 10000), ("2 GiB", 2 * 1024**3), ("512", 512)],
)
def test_parse_size_accepts_units(value, expected):
    assert types.parse_size(value) == expected


@pytest.mark.parametrize("value", ["huge", "1XB", -1, True, "", 1.5])
def test_parse_size_rejects_garbage(value):
    with pytest.raises(ValueError, match="expected a size like"):
        types.parse_size(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("60s", 60.0), ("5m", 300.0), ("1h", 3600.0), ("500ms", 0.5), (90, 90.0), (1.5, 1.5)]
)
def test_parse_duration_accepts_units(value, expected):
    assert types.parse_duration(value) == expected


@pytest.mark.parametrize("value", ["soon", "5", "1y", -3, False])
def test_parse_duration_rejects_garbage(value):
    with pytest.raises(ValueError, match="expected a duration"):
        types.parse_duration(value)


@pytest.mark.parametrize("value", [0, 65536, "5222", True])
def test_parse_port_rejects_out_of_range(value):
    with pytest.raises(ValueError, match="expected a port 1-65535"):
        types.parse_port(value)


def test_parse_ip_normalises_and_rejects_names():
    assert types.parse_ip("::0") == "::"
    assert types.parse_ip("127.0.0.1") == "127.0.0.1"
    with pytest.raises(ValueError, match="expected an IP address"):
        types.parse_ip("localhost")


@pytest.mark.parametrize("value", ["localhost", "Example.COM", "a-b.example.org", "example.com."])
def test_parse_domain_accepts_names(value):
    assert types.parse_domain(value) == value.lower().rstrip(".")


@pytest.mark.parametrize("value", ["bad domain", "-x.com", "a..b", "a@b", "x" * 64 + ".com", 5])
def test_parse_domain_rejects_bad_names(value):
    with pytest.raises(ValueError, match="expected a domain name"):
        types.parse_domain(value)


def test_parse_bare_jid_normalises_and_rejects():
    assert types.parse_bare_jid("Alice@Example.com") == "alice@example.com"
    for bad in ("example.com", "a@b.com/r", "@b.com", "a@bad domain"):
        with pytest.raises(ValueError, match="expected a bare JID"):
            types.parse_bare_jid(bad)


def test_redact_url_hides_password():
    assert types.redact_url("mysql+asyncmy://u:secret@h/db") == "mysql+asyncmy://u:***@h/db"
    assert types.redact_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"
