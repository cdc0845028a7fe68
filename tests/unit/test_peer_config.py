"""The throwaway server's config text loads into the schema with exactly the options it was given."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config
from tigase_py.server.config.certs import write_self_signed
from tigase_py.server.config.load import load_config


def test_every_option_reaches_the_loaded_config(tmp_path: Path) -> None:
    cert, key = write_self_signed("a.example", tmp_path / "certs")
    text = render_config(
        vhosts=["a.example", "b.example"],
        admins=["root@a.example"],
        pidfile=tmp_path / "tigase.pid",
        log_level="debug",
        storage_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        certificate=cert,
        key=key,
        listeners=[Listener(5001, "starttls", require_tls=True), Listener(5002, "direct"), Listener(5003, "none")],
        limits={"max_connections": 77},
        auth={"allow_plain_without_tls": True, "scram_iterations": 5000},
        http_port=5004,
        http={"address": "127.0.0.1", "api_keys": {"tests": "key-0123456789abcdef"}},
        extra='\n[vhosts."b.example"]\nregistration = true\n',
    )
    path = tmp_path / "tigase.toml"
    path.write_text(text)
    config = load_config(path)
    assert config.server.vhosts == ("a.example", "b.example")
    assert config.server.admins == ("root@a.example",)
    assert config.server.log_level == "debug"
    assert [(item.port, item.tls, item.require_tls) for item in config.listeners] == [
        (5001, "starttls", True),
        (5002, "direct", True),
        (5003, "none", False),
    ]
    assert config.limits.max_connections == 77
    assert (config.auth.allow_plain_without_tls, config.auth.scram_iterations) == (True, 5000)
    assert (config.http.address, config.http.port) == ("127.0.0.1", 5004)
    assert config.http.api_keys == {"tests": "key-0123456789abcdef"}
    assert tomllib.loads(text)["vhosts"]["b.example"] == {"registration": True}


def test_keys_left_out_are_not_written(tmp_path: Path) -> None:
    text = render_config(
        vhosts=["localhost"],
        storage_url="sqlite+aiosqlite:///x.db",
        certificate=tmp_path / "c.crt",
        key=tmp_path / "c.key",
        listeners=[Listener(5001)],
        http_port=5002,
    )
    doc = tomllib.loads(text)
    assert set(doc) == {"server", "storage", "tls", "listeners", "http"}
    assert "admins" not in doc["server"]
    assert doc["listeners"] == [{"type": "c2s", "address": "127.0.0.1", "port": 5001, "tls": "starttls"}]
    assert doc["http"] == {"port": 5002}
