"""The root command: help, version, fast import, and the error → exit code map."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from tigase_py.cli import errors, main
from tigase_py.server.config.errors import ConfigError

runner = CliRunner()


def test_help_lists_command_groups():
    result = runner.invoke(main.app, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "config", "server", "user", "vhost"):
        assert name in result.stdout


def test_version_prints_version():
    from tigase_py.server import __version__

    result = runner.invoke(main.app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"tigase-py {__version__}"


def test_unknown_option_is_usage_error():
    assert runner.invoke(main.app, ["config", "check", "--bogus"]).exit_code == 2


def test_import_main_loads_no_heavy_modules():
    code = (
        "import sys, json, tigase_py.cli.main\n"
        "heavy = ('sqlalchemy', 'cryptography', 'alembic', 'aiosqlite', 'asyncmy', 'tigase_py.server.app',"
        " 'tigase_py.server.storage', 'tigase_py.server.net', 'tigase_py.server.core')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_help_runs_in_subprocess():
    done = subprocess.run(
        [sys.executable, "-c", "from tigase_py.cli.main import run; run()", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "server" in done.stdout


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (errors.CliError("it failed"), 1, "error: it failed"),
        (errors.UsageError("bad input"), 2, "error: bad input"),
        (errors.Unreachable("down"), 3, "error: down"),
        (ConfigError("bad", file="t.toml", key="a.b"), 2, "error: t.toml: a.b: bad"),
        (KeyboardInterrupt(), 130, "error: interrupted"),
        (RuntimeError("boom"), 1, "error: internal error: RuntimeError: boom"),
    ],
)
def test_handle_error_maps_exceptions_to_exit_codes(exc, code, message, capsys):
    assert main.handle_error(exc) == code
    assert message in capsys.readouterr().err


def test_handle_error_maps_storage_errors():
    from tigase_py.server.storage.engine import StorageError

    assert main.handle_error(StorageError("connection refused by 10.0.0.1")) == 3
    assert main.handle_error(StorageError("duplicate key")) == 1


def test_abort_after_ctrl_c_exits_130():
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise typer.Abort() from None
    except typer.Abort as exc:
        assert main.handle_error(exc) == 130


def test_run_exits_with_mapped_code(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["tigase-py", "config", "check", str(tmp_path / "missing.toml")])
    with pytest.raises(SystemExit) as info:
        main.run()
    assert info.value.code == 2
