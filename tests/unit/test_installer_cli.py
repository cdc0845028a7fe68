"""`tigase-py install` / `uninstall` refuse bad arguments with one line and exit 2, before ansible runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["install"], "HOST..., --inventory FILE or --local"),
        (["install", "a.example", "--local"], "exactly one"),
        (["uninstall"], "HOST..., --inventory FILE or --local"),
        (["install", "--local", "--vhost", "bad host"], "--vhost bad host:"),
        (["install", "--local", "--admin", "not a jid"], "--admin: expected a bare JID"),
        (["install", "db.example:99999"], "db.example:99999: the port must be a number from 1 to 65535"),
        (["uninstall", "root@:22"], "root@:22: no host name"),
        (["install", "--local", "--db-admin-url", "mysql://root:pw@127.0.0.1/"], "needs --db-password"),
        (
            ["install", "--local", "--db-admin-url", "mysql://root@db/", "--db", "sqlite:///x.db"],
            "--db: must be a mysql:// or mariadb:// URL",
        ),
        (
            ["install", "--local", "--db-admin-url", "mysql://root@db/", "--db", "mysql://db/tigase"],
            "--db must name the user, the password and the database",
        ),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, args, message):
    result = runner.invoke(main.app, [*args, "--log-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not list(tmp_path.iterdir())  # nothing ran: no run directory was made


def test_certificate_needs_its_key(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("")
    result = runner.invoke(main.app, ["install", "--local", "--cert", str(cert), "--log-dir", str(tmp_path / "logs")])
    assert result.exit_code == 2
    assert "--cert and --key go together" in result.output


def test_help_lists_install_and_uninstall():
    result = runner.invoke(main.app, ["--help"])
    assert result.exit_code == 0
    assert "install" in result.output and "uninstall" in result.output
