"""init, config check, user and vhost through CliRunner: exit codes, messages, --json documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.server.config import load

runner = CliRunner()


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A fresh `tigase-py init` directory, found through $TIGASE_PY_CONFIG."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main.app, ["init", "site", "--vhost", "example.org"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "site" / "tigase.toml"
    monkeypatch.setenv(load.ENV_VAR, str(path))
    return path


def cli(*args: str):
    return runner.invoke(main.app, list(args))


def test_init_writes_config_and_prints_next_steps(site):
    assert (site.parent / "certs" / "example.org.crt").is_file()
    assert load.load_config(site).server.vhosts == ("example.org",)


def test_init_refuses_existing_config(site):
    result = cli("init", str(site.parent))
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_init_rejects_bad_vhost(tmp_path):
    result = cli("init", str(tmp_path), "--vhost", "bad name")
    assert result.exit_code == 2 and "--vhost: expected a domain name" in result.stderr


def test_init_password_needs_user(tmp_path):
    assert cli("init", str(tmp_path), "--password", "x").exit_code == 2


def test_init_with_user_creates_admin_account(tmp_path, monkeypatch):
    result = cli("init", str(tmp_path), "--vhost", "example.org", "--user", "root", "--password", "pw")
    assert result.exit_code == 0, result.output
    config = load.load_config(tmp_path / "tigase.toml")
    assert config.server.admins == ("root@example.org",)
    listed = cli("-c", str(config.path), "user", "list", "--json")
    assert json.loads(listed.stdout)["users"] == ["root@example.org"]


def test_config_check_reports_source_and_summary(site):
    result = cli("config", "check")
    assert result.exit_code == 0
    assert "found by $TIGASE_PY_CONFIG" in result.stderr
    assert "example.org" in result.stdout


def test_config_check_json_document(site):
    document = json.loads(cli("-c", str(site), "config", "check", "--json").stdout)
    assert document["valid"] is True and document["found_by"] == "flag"
    assert document["vhosts"] == ["example.org"]
    found = [(item["type"], item["port"]) for item in document["listeners"]]
    assert found == [("c2s", 5222), ("c2s", 5223), ("http", 5280)]


def test_config_check_invalid_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[listeners]]\ntls = "none"\nrequire_tls = false\n[limits]\nmax_stanza_size = "huge"\n')
    result = cli("config", "check", str(bad), "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == f'error: {bad}: limits.max_stanza_size: expected a size like "256KiB", got "huge"'
    assert json.loads(result.stdout)["valid"] is False


def test_config_check_without_any_config_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(load.ENV_VAR, raising=False)
    monkeypatch.setattr(load, "SYSTEM_CONFIG", tmp_path / "none.toml")
    result = cli("config", "check")
    assert result.exit_code == 2 and "no configuration file found" in result.stderr


def test_user_lifecycle(site):
    assert cli("user", "add", "alice@example.org", "--password", "secret").exit_code == 0
    again = cli("user", "add", "alice@example.org", "--password", "secret")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert cli("user", "passwd", "alice@example.org", "--password", "other").exit_code == 0
    assert json.loads(cli("user", "list", "--json").stdout)["users"] == ["alice@example.org"]
    assert cli("user", "delete", "alice@example.org").exit_code == 0
    missing = cli("user", "delete", "alice@example.org")
    assert missing.exit_code == 1 and "no such user" in missing.stderr
    assert cli("user", "passwd", "alice@example.org", "--password", "x").exit_code == 1


def test_user_add_prompts_twice(site):
    result = runner.invoke(main.app, ["user", "add", "bob@example.org"], input="pw\npw\n")
    assert result.exit_code == 0, result.output


def test_user_add_refuses_unknown_vhost(site):
    result = cli("user", "add", "alice@other.org", "--password", "x")
    assert result.exit_code == 1
    assert "other.org is not a virtual host of this server" in result.stderr


def test_user_add_rejects_bad_jid(site):
    result = cli("user", "add", "not-a-jid", "--password", "x")
    assert result.exit_code == 2 and "expected a bare JID" in result.stderr


def test_vhost_lifecycle(site):
    assert cli("vhost", "add", "Chat.Example.net").exit_code == 0
    assert cli("vhost", "add", "chat.example.net").exit_code == 1
    assert cli("user", "add", "carol@chat.example.net", "--password", "x").exit_code == 0
    document = json.loads(cli("vhost", "list", "--json").stdout)
    assert document["vhosts"] == [
        {"name": "example.org", "source": "config"},
        {"name": "chat.example.net", "source": "storage"},
    ]
    assert cli("vhost", "remove", "chat.example.net").exit_code == 0
    assert cli("vhost", "remove", "chat.example.net").exit_code == 1


def test_vhost_remove_refuses_configured_vhost(site):
    result = cli("vhost", "remove", "example.org")
    assert result.exit_code == 1 and "configured in" in result.stderr


def test_vhost_add_sends_sighup_to_running_server(site, tmp_path):
    import subprocess
    import sys

    marker = tmp_path / "hup"
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGHUP, lambda *a: (open(sys.argv[1], 'w').write('hup'), sys.exit(0)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    fake = subprocess.Popen([sys.executable, "-c", code, str(marker)], stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        (site.parent / "tigase-py.pid").write_text(f"{fake.pid}\n")
        result = cli("vhost", "add", "new.example.org")
        assert result.exit_code == 0 and "reload" in result.stderr
        fake.wait(timeout=5)
        assert marker.read_text() == "hup"
    finally:
        fake.kill()
        fake.wait()
