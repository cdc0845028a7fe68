"""/metrics (Prometheus text) and /jolokia (Jolokia-shaped JSON) of a running server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.xmpp_harness import RunningServer, login, running_server
from tigase_py.server.core.metrics import MetricsRegistry
from tigase_py.server.observe.jolokia import split_path
from tigase_py.server.observe.prometheus import render

PROVIDER = "tigase.stats:type=StatisticsProvider"


def base(handle: RunningServer) -> str:
    return f"http://127.0.0.1:{handle.server.config.http.port}"


async def get(handle: RunningServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(base(handle) + path) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def post(handle: RunningServer, path: str, body: Any) -> Any:
    async with aiohttp.ClientSession() as http, http.post(base(handle) + path, json=body) as response:
        assert response.status == 200
        return await response.json()


def families(text: str) -> dict[str, Any]:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


async def test_metrics_are_valid_prometheus_text(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        client = await login(handle, "alice@localhost")
        client.send_message(mto=client.boundjid.full, mbody="count me")
        await client.next_message()
        status, content_type, text = await get(handle, "/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        parsed = families(text)
        assert parsed["tigasepy_sm_sessions"].type == "gauge"
        assert parsed["tigasepy_router_routed"].type == "counter"
        assert re.search(r'^tigasepy_router_routed_total\{kind="message"\} [1-9]', text, re.M)
        assert re.search(r"^tigasepy_sm_sessions 1(\.0)?$", text, re.M)
        assert parsed["process_resident_memory_bytes"].type == "gauge"


def test_rendering_escapes_labels_and_avoids_name_clashes() -> None:
    registry = MetricsRegistry()
    registry.counter("x.hits", "x/Hits", 'a "quoted"\nhelp', ("path",)).labels('a"b\\c\nd').value += 2
    registry.gauge("x.hits_total", "x/Hits total", "a gauge that would clash").plain.value = 5
    registry.histogram("x.latency", "x/Latency", "seconds").dist().observe(0.2)
    body, content_type = render(registry)
    text = body.decode()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert 'tigasepy_x_hits_total{path="a\\"b\\\\c\\nd"} 2.0' in text
    assert '# HELP tigasepy_x_hits_total x/Hits: a "quoted"\\nhelp' in text
    assert "x/Hits total" not in text  # the clashing gauge is left out (and logged), never renamed
    assert 'tigasepy_x_latency_bucket{le="0.25"} 1.0' in text and "tigasepy_x_latency_count 1.0" in text
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names))
    assert families(text)["tigasepy_x_latency"].type == "histogram"


async def test_metrics_and_jolokia_refuse_other_networks(tmp_path: Path) -> None:
    async with running_server(tmp_path, extra='metrics_allow = ["10.0.0.0/8"]') as handle:
        assert (await get(handle, "/metrics"))[0] == 403
        assert (await get(handle, f"/jolokia/read/{PROVIDER}/ConnectionsNumber"))[0] == 403


async def test_jolokia_reads_the_statistics(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        await handle.add_user("alice@localhost")
        await handle.add_user("bob@localhost")
        await login(handle, "alice@localhost")
        await login(handle, "bob@localhost")
        status, _, text = await get(handle, f"/jolokia/read/{PROVIDER}/ConnectionsNumber")
        reply = json.loads(text)
        assert status == 200 and reply["status"] == 200
        assert reply["value"] == handle.server.sessions.count == 2
        assert reply["request"] == {"type": "read", "mbean": PROVIDER, "attribute": "ConnectionsNumber"}
        assert isinstance(reply["timestamp"], int)
        everything = json.loads((await get(handle, f"/jolokia/read/{PROVIDER}"))[2])["value"]
        assert everything["HeapMemUsage"] == -1.0 or 0 < everything["HeapMemUsage"] <= 100  # % of max, as Tigase
        assert everything["UptimeSeconds"] >= 0
        assert {"MessagesNumber", "PresencesNumber", "IQNumber", "RegisteredUsers", "CPUUsage"} <= set(everything)
        path = "/jolokia/read/tigase.stats:type=Metrics/sess-man!/Open user sessions"
        metric = json.loads((await get(handle, path))[2])
        assert metric["value"] == 2
        missing = json.loads((await get(handle, f"/jolokia/read/{PROVIDER}/NoSuchThing"))[2])
        assert missing["status"] == 404 and "AttributeNotFound" in missing["error_type"]
        bulk = await post(
            handle,
            "/jolokia",
            [
                {"type": "read", "mbean": PROVIDER, "attribute": ["ConnectionsNumber", "VHostsNumber"]},
                {"type": "version"},
                {"type": "search", "mbean": "tigase.stats:*"},
                {"type": "list"},
                {"type": "read", "mbean": "java.lang:type=Nothing"},
                {"type": "exec"},
            ],
        )
        assert bulk[0]["value"] == {"ConnectionsNumber": 2, "VHostsNumber": 1}
        assert bulk[1]["value"]["info"]["product"] == "tigase-py"
        assert PROVIDER in bulk[2]["value"]
        assert "type=Metrics" in bulk[3]["value"]["tigase.stats"]
        assert [item["status"] for item in bulk[4:]] == [404, 400]
        single = await post(handle, "/jolokia", {"type": "read", "mbean": PROVIDER, "attribute": "IQNumber"})
        assert single["status"] == 200 and single["value"] >= 0


def test_jolokia_path_escapes() -> None:
    assert split_path("read/a:b=c/x!/y/") == ["read", "a:b=c", "x/y"]
    assert split_path("read/m/a!!b") == ["read", "m", "a!b"]
