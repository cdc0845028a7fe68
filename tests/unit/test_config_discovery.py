"""Config discovery order and `write_default` (config + self-signed certificate)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tigase_py.server.config import load
from tigase_py.server.config.default import write_default
from tigase_py.server.config.errors import ConfigError


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(load.ENV_VAR, raising=False)
    monkeypatch.setattr(load, "SYSTEM_CONFIG", tmp_path / "etc" / "tigase.toml")
    return tmp_path


def test_find_config_prefers_explicit_path(isolated, monkeypatch):
    monkeypatch.setenv(load.ENV_VAR, "/from/env.toml")
    (isolated / "tigase.toml").write_text("")
    assert load.locate_config(Path("given.toml")) == load.ConfigLocation(Path("given.toml"), "flag")


def test_find_config_uses_env_before_cwd(isolated, monkeypatch):
    monkeypatch.setenv(load.ENV_VAR, "/from/env.toml")
    (isolated / "tigase.toml").write_text("")
    assert load.locate_config(None) == load.ConfigLocation(Path("/from/env.toml"), "env")


def test_find_config_uses_cwd_before_system(isolated):
    (isolated / "etc").mkdir()
    (isolated / "etc" / "tigase.toml").write_text("")
    (isolated / "tigase.toml").write_text("")
    assert load.find_config(None) == Path("tigase.toml")


def test_find_config_falls_back_to_system(isolated):
    (isolated / "etc").mkdir()
    (isolated / "etc" / "tigase.toml").write_text("")
    location = load.locate_config(None)
    assert location.source == "system" and location.path == isolated / "etc" / "tigase.toml"


def test_find_config_raises_when_nothing_found(isolated):
    with pytest.raises(ConfigError, match="no configuration file found"):
        load.find_config(None)


def test_write_default_writes_loadable_config_and_cert(tmp_path):
    from cryptography import x509

    path = write_default(tmp_path / "site", "Chat.Example.org", admins=["root@chat.example.org"])
    config = load.load_config(path)
    assert config.server.vhosts == ("chat.example.org",)
    assert config.server.admins == ("root@chat.example.org",)
    assert [(item.port, item.tls) for item in config.listeners] == [(5222, "starttls"), (5223, "direct")]
    assert all(item.address == "127.0.0.1" for item in config.listeners)
    assert config.storage.url.startswith("sqlite+aiosqlite:///")
    assert config.storage.url.endswith(str(tmp_path / "site" / "tigase.db"))
    assert config.tls.certificate == tmp_path / "site" / "certs" / "chat.example.org.crt"
    assert config.tls.key is not None
    assert stat.S_IMODE(config.tls.key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(config.tls.certificate.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["chat.example.org"]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days >= 3649


def test_write_default_refuses_to_overwrite_without_force(tmp_path):
    path = write_default(tmp_path)
    path.write_text("# edited\n")
    with pytest.raises(FileExistsError):
        write_default(tmp_path)
    assert path.read_text() == "# edited\n"
    write_default(tmp_path, force=True)
    assert path.read_text() != "# edited\n"


def test_write_default_rejects_bad_vhost(tmp_path):
    with pytest.raises(ConfigError, match="vhost: expected a domain name"):
        write_default(tmp_path, "not a domain")
    assert not (tmp_path / "tigase.toml").exists()
