"""Probe parsing and error wording without a server; CLI usage errors of status and stats."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.cli.commands import stats, status
from tigase_py.monitoring import http, jmx, model, snmp

runner = CliRunner()
HEALTH = {"status": "ok", "version": "9.9", "uptime_seconds": 20, "db_up": True}
STATS = {
    "version": "9.9",
    "uptime_seconds": 20,
    "vhosts": ["a.example"],
    "sessions": 2,
    "metrics": {"c2s/Stanzas received[kind=message]": 40, "storage/Database up": 0, "flag": True},
}


def test_from_documents_merges_health_and_stats() -> None:
    r = http.from_documents("u", 3.0, HEALTH, STATS)
    assert (r.version, r.uptime_seconds, r.vhosts, r.sessions) == ("9.9", 20.0, ["a.example"], 2)
    assert r.messages_per_second == 2.0
    assert r.storage_up is True  # health's db_up wins over the gauge
    assert "flag" not in r.metrics


def test_from_documents_health_only() -> None:
    r = http.from_documents("u", 3.0, {**HEALTH, "db_up": False}, None)
    assert r.storage_up is False and r.metrics == {} and r.sessions is None


@pytest.fixture
async def api() -> TestServer:
    async def health(_: web.Request) -> web.Response:
        return web.json_response(HEALTH)

    async def stats_view(request: web.Request) -> web.Response:
        if request.headers.get("X-API-Key") != "good":
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.Response(text="not json")

    app = web.Application()
    app.router.add_get(http.HEALTH_PATH, health)
    app.router.add_get(http.STATS_PATH, stats_view)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server  # type: ignore[misc]
    await server.close()


async def test_http_probe_wording(api: TestServer) -> None:
    url = str(api.make_url("")).rstrip("/")
    with pytest.raises(model.ProbeFailure) as refused:
        await http.probe(http.HttpTarget(url, api_key="bad"), 2)
    assert (refused.value.kind, str(refused.value)) == ("auth", "http: 401 unauthorized (check --api-key)")
    with pytest.raises(model.ProbeFailure) as garbled:
        await http.probe(http.HttpTarget(url, api_key="good"), 2)
    assert garbled.value.kind == "error" and "did not answer JSON" in str(garbled.value)
    assert (await http.probe(http.HttpTarget(url), 2)).version == "9.9"


def test_snmp_timeout_names_community_and_user() -> None:
    target = snmp.SnmpTarget(port=1)
    with pytest.raises(model.ProbeFailure) as timeout:
        snmp._check(target, 2, "No SNMP response received before timeout", 0, 0)
    assert timeout.value.kind == "unreachable"
    assert str(timeout.value) == (
        "snmp: no response from 127.0.0.1:1 within 2 s (agent down, or wrong community/user; check --snmp-community)"
    )
    v3 = snmp.SnmpTarget(user="ops", auth_key="k" * 8, priv_key="p" * 8)
    with pytest.raises(model.ProbeFailure) as report:
        snmp._check(v3, 2, "Unknown USM user", 0, 0)
    assert report.value.kind == "auth" and "--snmp-user/--snmp-auth-key/--snmp-priv-key" in str(report.value)


def test_jmx_jar_errors_become_short_reasons() -> None:
    refused = '{ "error": "connection-error", "message":"Failed to retrieve RMIServer stub: ... Connection refused]"}'
    assert jmx._short(jmx._jar_message(refused.encode())) == "connection refused"
    secure = 'Exception in thread "main" java.lang.SecurityException: Authentication failed! Invalid username'
    assert jmx._short(jmx._jar_message(secure)) == "authentication failed (invalid username or password)"
    assert jmx.jmx_url("h", 9050) == "service:jmx:rmi:///jndi/rmi://h:9050/jmxrmi"


def test_prometheus_filter_keeps_help_and_type_of_matches() -> None:
    text = '# HELP a_total x\n# TYPE a_total counter\na_total 1\n# HELP b y\nb{l="1"} 2\n# EOF\n'
    assert stats.filter_prometheus(text, "a_*") == "# HELP a_total x\n# TYPE a_total counter\na_total 1\n# EOF\n"
    assert stats.filter_prometheus(text, None) == text


def test_parse_via_and_durations() -> None:
    assert status.parse_via("all") == ["http", "snmp", "jmx", "xmpp"]
    assert status.parse_via("http, snmp") == ["http", "snmp"]
    assert status._duration(90061) == "1d 1h 1m" and status._duration(65) == "1m 5s" and status._duration(4) == "4s"


@pytest.mark.parametrize(
    "args, message",
    [
        (["status", "--via", "smtp"], "--via: unknown channel smtp"),
        (["status", "--watch", "--json"], "--watch and --json do not combine"),
        (["status", "--via", "xmpp"], "--via xmpp needs --xmpp-jid"),
        (["status", "--user", "admin@x"], "--user needs --password"),
        (["stats", "--json", "--prometheus"], "choose one of --json and --prometheus"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIGASE_PY_CONFIG", "/nonexistent/tigase.toml")
    monkeypatch.delenv("TIGASE_PY_PASSWORD", raising=False)
    monkeypatch.setattr(status, "config_defaults", lambda **_: status.Defaults())
    done = runner.invoke(main.app, args)
    assert done.exit_code == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_status_json_of_refused_http_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import free_port

    monkeypatch.setattr(status, "config_defaults", lambda **_: status.Defaults())
    done = runner.invoke(main.app, ["status", "--http-url", f"http://127.0.0.1:{free_port()}", "--json"])
    assert done.exit_code == 3
    assert json.loads(done.stdout)["state"] == "unreachable"
