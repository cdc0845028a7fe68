"""The README's TOML samples load with the real config reader and show the real defaults."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from tigase_py.server.config import certs, load, schema

README = Path(__file__).resolve().parents[2] / "README.md"


def toml_samples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S)


def main_sample() -> str:
    (sample,) = [text for text in toml_samples() if text.startswith("[server]")]
    return sample


def test_the_sample_config_loads(tmp_path):
    certs.write_self_signed("localhost", tmp_path / "certs")
    path = tmp_path / "tigase.toml"
    path.write_text(main_sample())
    config = load.load_config(path)
    assert config.server.vhosts == ("localhost", "example.com")
    assert config.options_for("example.com").registration is True


def test_the_sample_shows_the_defaults(tmp_path):
    certs.write_self_signed("localhost", tmp_path / "certs")
    path = tmp_path / "tigase.toml"
    path.write_text(main_sample())
    config = load.load_config(path)
    assert config.modules.enabled == schema.ALL_MODULES  # a copied sample keeps every module (adhoc too)
    assert config.limits == schema.LimitsConfig()
    assert config.auth == schema.AuthConfig()
    assert (config.http.enabled, config.http.address, config.http.port) == (True, "127.0.0.1", 5280)
    defaults = schema.GeneralConfig()
    assert config.server.log_level == defaults.log_level
    assert config.server.resource_conflict == defaults.resource_conflict
    assert config.listeners[0] == schema.ListenerConfig()


def test_the_operations_sample_uses_real_keys():
    (sample,) = [text for text in toml_samples() if text.startswith("[http]")]
    data = tomllib.loads(sample)
    http_keys = {field.name for field in dataclasses.fields(schema.HttpConfig)}
    snmp_keys = {field.name for field in dataclasses.fields(schema.SnmpConfig)}
    user_keys = {field.name for field in dataclasses.fields(schema.SnmpUser)}
    assert set(data["http"]) <= http_keys
    assert set(data["snmp"]) - {"users"} <= snmp_keys
    assert all(set(user) <= user_keys for user in data["snmp"]["users"])
