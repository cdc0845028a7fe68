"""/metrics as Prometheus' own tools read it: promtool, prometheus_client's parsers, a real Prometheus scrape."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import free_port, require_tool
from tests.xmpp_harness import RunningServer, login, running_server

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


async def scrape(handle: RunningServer, accept: str | None = None) -> tuple[str, str]:
    url = f"http://127.0.0.1:{handle.server.config.http.port}/metrics"
    headers = {"Accept": accept} if accept else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        assert response.status == 200
        return response.headers["Content-Type"], await response.text()


async def busy_server(handle: RunningServer) -> None:
    """Give counters and histograms non-zero values: a login, a message, vhosts that once collided."""
    await handle.add_user("alice@localhost")
    client = await login(handle, "alice@localhost")
    client.send_message(mto=client.boundjid.full, mbody="count me")
    await client.next_message()
    for vhost in ("a.b", "a-b", "ünï.example"):
        await handle.server.add_vhost(vhost)


async def test_promtool_finds_no_problems_and_the_parser_no_unknown_family(tmp_path: Path) -> None:
    require_tool("promtool", "prometheus")
    async with running_server(tmp_path) as handle:
        await busy_server(handle)
        content_type, text = await scrape(handle)
    assert content_type.startswith("text/plain; version=0.0.4")
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked.stdout + checked.stderr
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert [name for name, family in families.items() if family.type == "unknown"] == []
    assert all(family.documentation for family in families.values())
    assert families["tigasepy_c2s_auth_failures"].type == "counter"
    assert families["process_cpu_seconds"].type == "counter"
    assert families["python_gc_collections"].type == "counter"
    assert families["tigasepy_storage_op_seconds"].type == "histogram"
    assert not any(name.endswith(("_p50", "_p99")) or "localhost" in name for name in families)
    users = {sample.labels["vhost"] for sample in families["tigasepy_vhost_users"].samples}
    assert users == {"localhost", "a.b", "a-b", "ünï.example"}
    routed = {s.labels["kind"]: s.value for s in families["tigasepy_router_routed"].samples}
    assert routed["message"] >= 1
    latency = [s for s in families["tigasepy_storage_op_seconds"].samples if s.name.endswith("_count")]
    assert sum(s.value for s in latency) >= 1


async def test_openmetrics_is_served_when_asked_for(tmp_path: Path) -> None:
    async with running_server(tmp_path) as handle:
        content_type, text = await scrape(handle, f"{OPENMETRICS},text/plain;version=0.0.4;q=0.5")
    assert content_type.startswith(OPENMETRICS)
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in openmetrics_families(text)}
    assert families["tigasepy_router_routed"].type == "counter"
    assert families["tigasepy_router_handler_seconds"].type == "histogram"


@asynccontextmanager
async def prometheus(tmp_path: Path, target_port: int) -> AsyncIterator[str]:
    """A real Prometheus scraping 127.0.0.1:target_port/metrics every second; yields its base URL."""
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: tigase-py\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
    )
    binary = shutil.which("prometheus")
    assert binary is not None
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("wb"),
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def api(http: aiohttp.ClientSession, url: str) -> Any:
    try:
        async with http.get(url) as response:
            if response.status != 200:
                return None
            document = await response.json()
    except aiohttp.ClientError:
        return None
    return document.get("data") if document.get("status") == "success" else None


async def test_a_real_prometheus_scrape_keeps_type_and_help(tmp_path: Path) -> None:
    require_tool("prometheus", "prometheus")
    async with running_server(tmp_path) as handle:
        await busy_server(handle)
        async with prometheus(tmp_path, handle.server.config.http.port) as base, aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 20
            metadata: dict[str, Any] = {}
            vector: list[Any] = []
            while time.monotonic() < deadline and not (metadata and vector):
                await asyncio.sleep(0.25)
                query = await api(http, f"{base}/api/v1/query?query=tigasepy_router_routed_total")
                vector = query.get("result", []) if query else []
                metadata = await api(http, f"{base}/api/v1/metadata") or {}
            log = (tmp_path / "prometheus.log").read_text(errors="replace")[-2000:]
            assert vector, f"no samples scraped within 20 s; prometheus log: {log}"
            targets = await api(http, f"{base}/api/v1/targets")
    assert targets["activeTargets"][0]["health"] == "up"
    kinds = {sample["metric"]["kind"]: float(sample["value"][1]) for sample in vector}
    assert kinds["message"] >= 1
    # Prometheus asks for OpenMetrics first, where a counter family is named without ``_total``.
    routed = metadata.get("tigasepy_router_routed") or metadata.get("tigasepy_router_routed_total")
    assert routed and routed[0]["type"] == "counter" and "Stanzas routed" in routed[0]["help"], metadata.keys()
    latency = metadata.get("tigasepy_storage_op_seconds")
    assert latency and latency[0]["type"] == "histogram"
    assert metadata["process_resident_memory_bytes"][0]["type"] == "gauge"
