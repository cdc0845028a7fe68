"""``tigase-py status`` and ``tigase-py stats`` over the REST API of a running server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import free_port
from tests.integration.test_monitoring_cli import cli, one_error_line
from tests.xmpp_harness import login, running_server
from tigase_py.server import __version__
from tigase_py.server.config.load import load_config

API_KEY = "test-api-key-0123456789"  # the key tests/xmpp_harness.py writes into [http]


def http_url(directory: Path) -> str:
    return f"http://127.0.0.1:{load_config(directory / 'tigase.toml').http.port}"


async def test_status_via_http_with_key_and_basic_auth(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        await handle.add_user("alice@localhost")
        await login(handle, "alice@localhost")
        url = http_url(tmp_path)
        keyed = await cli("status", "--http-url", url, "--json", env={"TIGASE_PY_API_KEY": API_KEY})
        basic = await cli("status", "--http-url", url, "--user", "admin@localhost", "--password", "secret", "--json")
        view = await cli("--config", tmp_path / "tigase.toml", "status")  # URL and key from the config
        health_only = await cli("status", "--http-url", url, "--json", env={"TIGASE_PY_API_KEY": ""})
    for done in (keyed, basic):
        assert done.returncode == 0, done.stderr
        probe = json.loads(done.stdout)["probes"][0]
        assert probe["ok"] and probe["version"] == __version__
        assert probe["vhosts"] == ["localhost"]
        assert probe["sessions"] == 1 and probe["registered_users"] == 2
        assert probe["storage_up"] is True and probe["open_files"] > 0
        assert probe["auth_failures"] == 0 and probe["messages_per_second"] is not None
    assert view.returncode == 0, view.stderr
    for label in ("HEALTHY", "uptime", "vhosts", "sessions", "messages/s", "auth failures", "open files"):
        assert label in view.stdout
    assert health_only.returncode == 0, health_only.stderr
    assert json.loads(health_only.stdout)["probes"][0]["storage_up"] is True


async def test_stats_filter_json_and_prometheus(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        url = http_url(handle.directory)
        env = {"TIGASE_PY_API_KEY": API_KEY}
        document = await cli("stats", "--http-url", url, "--filter", "process/*", "--json", env=env)
        table = await cli("stats", "--http-url", url, "--filter", "c2s/*", env=env)
        prometheus = await cli("stats", "--http-url", url, "--prometheus", env=env)
        nothing = await cli("stats", "--http-url", url, "--filter", "no-such-metric*", env=env)
    assert document.returncode == 0, document.stderr
    metrics = json.loads(document.stdout)["metrics"]
    assert metrics and all(key.startswith("process/") for key in metrics)
    assert "process/Open files" in metrics
    assert table.returncode == 0 and "c2s/All authentication failures" in table.stdout
    assert prometheus.returncode == 0 and "# TYPE" in prometheus.stdout
    assert nothing.returncode == 1 and "no metric matches" in one_error_line(nothing)


async def test_bad_key_and_unreachable_are_one_line(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        url = http_url(handle.directory)
        status = await cli("status", "--http-url", url, "--api-key", "wrong-key")
        stats = await cli("stats", "--http-url", url, "--api-key", "wrong-key")
        basic = await cli("status", "--http-url", url, "--user", "nobody@localhost", "--password", "x")
    down = await cli("status", "--http-url", f"http://127.0.0.1:{free_port()}", "--api-key", API_KEY)
    stats_down = await cli("stats", "--http-url", f"http://127.0.0.1:{free_port()}", "--api-key", API_KEY)
    assert status.returncode == 1
    assert one_error_line(status) == "error: http: 401 unauthorized (check --api-key)"
    assert stats.returncode == 1
    assert one_error_line(stats) == "error: http: 401 unauthorized (check --api-key)"
    assert basic.returncode == 1 and "(check --user/--password)" in one_error_line(basic)
    for done in (down, stats_down):
        assert done.returncode == 3
        assert one_error_line(done).endswith("(connection refused)")
