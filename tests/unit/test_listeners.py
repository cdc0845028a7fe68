"""Every listener ``init`` enables is written into its tigase.toml and listed by ``config check``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.server.config import listeners, load

runner = CliRunner()


def init(tmp_path: Path) -> Path:
    result = runner.invoke(main.app, ["init", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    return tmp_path / "site" / "tigase.toml"


def test_init_writes_an_explicit_http_section(tmp_path):
    path = init(tmp_path)
    written = tomllib.loads(path.read_text())
    assert written["http"] == {"enabled": True, "address": "127.0.0.1", "port": 5280}
    assert [(item["port"], item["tls"]) for item in written["listeners"]] == [(5222, "starttls"), (5223, "direct")]


def test_default_config_endpoints_are_the_three_listeners(tmp_path):
    config = load.load_config(init(tmp_path))
    found = [str(endpoint) for endpoint in listeners.endpoints(config)]
    assert found == [
        "c2s 127.0.0.1:5222 (starttls)",
        "c2s 127.0.0.1:5223 (direct)",
        "http 127.0.0.1:5280 (REST API, /metrics, /jolokia)",
    ]


def test_disabled_http_and_enabled_snmp_change_the_list(tmp_path):
    path = init(tmp_path)
    text = path.read_text().replace("enabled = true", "enabled = false", 1)
    path.write_text(text + '\n[snmp]\nenabled = true\naddress = "::1"\nport = 1161\n')
    config = load.load_config(path)
    assert not config.http.enabled
    assert [endpoint.kind for endpoint in listeners.endpoints(config)] == ["c2s", "c2s", "snmp"]
    assert listeners.endpoints(config)[-1].where == "[::1]:1161"
    assert "http" not in listeners.listening_on(config)


def test_config_check_lists_every_listener(tmp_path):
    path = init(tmp_path)
    shown = runner.invoke(main.app, ["-c", str(path), "config", "check"])
    assert shown.exit_code == 0, shown.output
    for line in ("c2s 127.0.0.1:5222 (starttls)", "c2s 127.0.0.1:5223 (direct)", "http 127.0.0.1:5280"):
        assert line in shown.stdout
    document = json.loads(runner.invoke(main.app, ["-c", str(path), "config", "check", "--json"]).stdout)
    http = document["listeners"][-1]
    assert (http["type"], http["address"], http["port"], http["tls"]) == ("http", "127.0.0.1", 5280, None)
