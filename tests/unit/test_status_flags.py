"""``status``/``stats`` flags with a config: the ports they default to, the help texts, -v, the filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import free_ports
from tigase_py.cli import main
from tigase_py.cli.commands import stats, status

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int, int]:
    """A config with a c2s listener and an HTTP port where nothing listens; no server runs."""
    c2s, http = free_ports(2)
    path = tmp_path / "tigase.toml"
    path.write_text(
        f'[[listeners]]\ntype = "c2s"\nport = {c2s}\ntls = "none"\n\n[http]\nport = {http}\n', encoding="utf-8"
    )
    monkeypatch.setenv("TIGASE_PY_CONFIG", str(path))
    monkeypatch.delenv("TIGASE_PY_API_KEY", raising=False)
    return path, c2s, http


def test_host_uses_the_config_http_port(config: tuple[Path, int, int]) -> None:
    _, _, http = config
    done = runner.invoke(main.app, ["status", "--host", "127.0.0.1", "--timeout", "2"])
    assert done.exit_code == 3
    assert f"cannot connect to http://127.0.0.1:{http} " in done.stderr and ":5280" not in done.stderr
    target = status.http_target(status.Defaults(http_port=6000), "::1", None, None, None, None)
    assert target.url == "http://[::1]:6000"


def test_xmpp_port_defaults_to_the_config_listener(config: tuple[Path, int, int]) -> None:
    _, c2s, _ = config
    args = ["status", "--via", "xmpp", "--xmpp-jid", "a@localhost", "--xmpp-password", "x", "--xmpp-host", "127.0.0.1"]
    done = runner.invoke(main.app, [*args, "--timeout", "2", "--json"])
    assert done.exit_code == 3
    assert f"127.0.0.1:{c2s}" in done.stdout and ":5222" not in done.stdout


def test_status_help_names_its_defaults() -> None:
    done = runner.invoke(main.app, ["status", "--help"], env={"COLUMNS": "200"})
    assert done.exit_code == 0
    assert "config's )" not in done.stdout
    assert "the admin socket, else the config's http listener" in done.stdout
    assert "the config's STARTTLS c2s listener, else 5222" in done.stdout


def test_verbose_is_a_repeatable_flag() -> None:
    done = runner.invoke(main.app, ["--help"], env={"COLUMNS": "200"})
    line = next(row for row in done.stdout.splitlines() if "--verbose" in row)
    assert "<int>" not in line and "-vv" in line
    assert runner.invoke(main.app, ["-vv", "--version"]).exit_code == 0
    assert runner.invoke(main.app, ["-v", "-v", "--version"]).exit_code == 0


EXPOSITION = (
    "# HELP tigasepy_c2s_bytes_in c2s/Bytes received: bytes read from clients\n"
    "# TYPE tigasepy_c2s_bytes_in counter\n"
    "tigasepy_c2s_bytes_in_total 10\n"
    "# HELP tigasepy_process_open_files process/Open files: descriptors\n"
    "# TYPE tigasepy_process_open_files gauge\n"
    "tigasepy_process_open_files 22\n"
)


def test_prometheus_filter_matches_tigase_and_prometheus_names() -> None:
    first_family = "".join(EXPOSITION.splitlines(keepends=True)[:3])
    assert stats.filter_prometheus(EXPOSITION, "c2s/*") == first_family
    assert stats.filter_prometheus(EXPOSITION, "C2S/Bytes*") == first_family
    assert stats.filter_prometheus(EXPOSITION, "tigasepy_c2s_*") == first_family
    assert stats.filter_prometheus(EXPOSITION, "tigasepy_c2s_bytes_in_total") == first_family
    assert stats.filter_prometheus(EXPOSITION, "process/Open files").endswith("tigasepy_process_open_files 22\n")
    assert stats.filter_prometheus(EXPOSITION, "sess-man/*") == ""


def test_stats_help_says_what_the_filter_matches() -> None:
    done = runner.invoke(main.app, ["stats", "--help"], env={"COLUMNS": "200"})
    assert "Tigase-style" in done.stdout and "Prometheus names" in done.stdout


async def test_https_certificate_failure_is_named(tmp_path: Path) -> None:
    import ssl

    from aiohttp import web

    from tests.helpers import free_port
    from tigase_py.monitoring import http, model
    from tigase_py.server.config.certs import write_self_signed

    async def health(_: web.Request) -> web.Response:
        return web.json_response({})

    cert, key = write_self_signed("localhost", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/api/v1/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        with pytest.raises(model.ProbeFailure, match="certificate verify failed: self-signed certificate") as failed:
            await http.probe(http.HttpTarget(url=f"https://127.0.0.1:{port}"), timeout=5)
        assert "cannot connect" not in str(failed.value)
    finally:
        await runner.cleanup()


def test_an_unreadable_config_is_one_line(config: tuple[Path, int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from tigase_py.server.config.errors import ConfigError

    def unreadable(*_: object) -> None:
        raise ConfigError("cannot read: Permission denied", file=str(config[0]))

    monkeypatch.setattr(status.context, "load", unreadable)
    monkeypatch.setattr(status.os, "access", lambda *_: False)  # as root every file is readable
    done = runner.invoke(main.app, ["status"])
    assert done.exit_code == 1
    assert done.stderr.strip().splitlines() == [
        f"error: cannot read {config[0]} (permission denied): run as the server's user, or name the server "
        "with --host/--http-url and give --api-key or --user/--password"
    ]
