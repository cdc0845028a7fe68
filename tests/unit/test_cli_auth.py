"""`tigase-py auth` and `user unlock` through CliRunner: credentials and reachability map to exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import free_port
from tigase_py.cli import main
from tigase_py.server.config import load

runner = CliRunner()
LISTENER = '[[listeners]]\ntls = "none"\nrequire_tls = false\n'


def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http: str) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(f"{LISTENER}[http]\nport = {free_port()}\n{http}")
    monkeypatch.setenv(load.ENV_VAR, str(path))


def test_without_an_admin_key_it_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIGASE_PY_API_KEY", raising=False)
    config(tmp_path, monkeypatch, '[http.api_keys.grafana]\nkey = "read-only-key-0123456789"\nscopes = ["read"]\n')
    result = runner.invoke(main.app, ["auth", "unlock", "--ip", "192.0.2.1"])
    assert result.exit_code == 2
    assert "needs --api-key" in result.stderr


def test_a_stopped_server_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIGASE_PY_API_KEY", raising=False)
    config(tmp_path, monkeypatch, 'api_keys = { ops = "admin-key-0123456789abc" }\n')
    for args in (["user", "unlock", "alice@localhost"], ["auth", "lockouts", "--json"]):
        result = runner.invoke(main.app, args)
        assert result.exit_code == 3, result.output
        assert "cannot reach the server" in result.stderr and "start it first" in result.stderr
